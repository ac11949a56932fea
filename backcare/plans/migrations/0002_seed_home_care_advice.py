"""Seed the small managed list of home care advice; admins add to it in the Django admin."""

from django.db import migrations

ADVICE = [
    ("heat", "Heat on the lower back for 15-20 minutes, once or twice a day"),
    ("keep_moving", "Keep moving: short walks through the day; avoid long bed rest"),
    ("posture_breaks", "Posture breaks: stand up and move every 30-45 minutes when sitting"),
    ("knee_to_chest", "Stretch: knee to chest, 3 x 20 seconds each side"),
    ("cat_cow", "Stretch: cat-cow on hands and knees, 10 slow repetitions"),
    ("piriformis_stretch", "Stretch: piriformis (figure-four), 3 x 20 seconds each side"),
    ("lifting", "Lifting: bend the knees, keep the load close to the body"),
    ("sleep_position", "Sleep on the side with a pillow between the knees"),
]


def seed(apps, schema_editor):
    HomeCareAdvice = apps.get_model("plans", "HomeCareAdvice")
    for order, (code, name) in enumerate(ADVICE, start=1):
        HomeCareAdvice.objects.update_or_create(
            code=code, defaults={"name": name, "sort_order": order * 10}
        )


def unseed(apps, schema_editor):
    HomeCareAdvice = apps.get_model("plans", "HomeCareAdvice")
    HomeCareAdvice.objects.filter(code__in=[code for code, _ in ADVICE]).delete()


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_create_treatment_plans")]

    operations = [migrations.RunPython(seed, unseed)]
