"""Make a signed visit note immutable in the database as well as in `VisitNote.save()`.

Once a note is signed or entered in error (decision 0015), an UPDATE may only move its status
on to entered in error and fill the entered-in-error fields (and `updated_at`). Its clinical
content, its signature, the measurements recorded at signing, its visit and clinic stay as they
were; it never goes back to draft. A draft is not affected. The columns are listed here, not
taken from the model, so that this migration keeps meaning what it meant when it ran.
"""

from django.db import migrations

FROZEN_COLUMNS = (
    "subjective",
    "changes_since_last",
    "pain_regions",
    "pain_before",
    "analgesic_days",
    "palpation",
    "posture",
    "posture_note",
    "schober_span_cm",
    "fingertip_floor_cm",
    "position",
    "treated_regions",
    "assessment",
    "pain_after",
    "adverse_events",
    "next_focus",
    "home_care",
    "plan_changes",
    "signed_at",
    "signed_by_id",
    "measurement_ids",
    "visit_id",
    "clinic_id",
    "id",
    "created_at",
)
MESSAGE = "a signed visit note cannot be changed; add an amendment instead"


def _refused_when(distinct: str) -> str:
    changed = " OR ".join(f"NEW.{column} {distinct} OLD.{column}" for column in FROZEN_COLUMNS)
    return (
        "OLD.status <> 'draft' AND ("
        f"{changed} OR NEW.status = 'draft' "
        "OR (OLD.status = 'entered_in_error' AND NEW.status <> 'entered_in_error'))"
    )


POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION visits_visitnote_signed_immutable() RETURNS trigger AS $$
BEGIN
    IF {_refused_when("IS DISTINCT FROM")} THEN
        RAISE EXCEPTION '{MESSAGE}';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER visits_visitnote_signed_immutable BEFORE UPDATE ON visits_visitnote
    FOR EACH ROW EXECUTE FUNCTION visits_visitnote_signed_immutable();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS visits_visitnote_signed_immutable ON visits_visitnote;
DROP FUNCTION IF EXISTS visits_visitnote_signed_immutable();
"""
SQLITE_UP = f"""
CREATE TRIGGER visits_visitnote_signed_immutable BEFORE UPDATE ON visits_visitnote
WHEN {_refused_when("IS NOT")}
BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS visits_visitnote_signed_immutable;"


def _run(sql_by_vendor):
    def run(apps, schema_editor):
        sql = sql_by_vendor.get(schema_editor.connection.vendor)
        if sql:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("visits", "0002_add_amendment_measurements")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP}),
            _run({"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN}),
        )
    ]
