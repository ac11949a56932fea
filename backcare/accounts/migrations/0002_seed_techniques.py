"""Seed the managed list of massage techniques (RULES.md §2.1 technique vocabulary).

Joint manipulation is outside massage scope in most jurisdictions and is not offered (RULES.md
§2.1, project decision). Admins add, rename or retire techniques in the Django admin.
"""

from django.db import migrations

TECHNIQUES = [
    ("swedish", "Swedish (relaxation)", "Effleurage, petrissage and tapotement."),
    ("deep_tissue", "Deep tissue (structural)", "Slow, firm work on deeper layers of muscle."),
    ("myofascial_release", "Myofascial release", "Sustained pressure and stretch of fascia."),
    ("trigger_point", "Trigger point therapy", "Ischaemic compression of trigger points."),
    ("sports", "Sports massage", "Pre- and post-activity work for active people."),
    ("neuromuscular", "Neuromuscular technique", "Systematic pressure to specific muscles."),
    ("instrument_assisted", "Instrument-assisted soft tissue", "Tools to work soft tissue."),
    ("cupping", "Cupping", "Suction cups to lift and stretch tissue."),
    ("passive_stretching", "Passive stretching", "Therapist-guided stretches."),
]


def seed(apps, schema_editor):
    Technique = apps.get_model("accounts", "Technique")
    for order, (code, name, description) in enumerate(TECHNIQUES, start=1):
        Technique.objects.update_or_create(
            code=code,
            defaults={"name": name, "description": description, "sort_order": order * 10},
        )


def unseed(apps, schema_editor):
    Technique = apps.get_model("accounts", "Technique")
    Technique.objects.filter(code__in=[code for code, _, _ in TECHNIQUES]).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_people_clinics_licences")]

    operations = [migrations.RunPython(seed, unseed)]
