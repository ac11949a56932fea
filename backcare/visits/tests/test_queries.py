"""Reading a visit: what the page gets, who may read it (therapists and admins of the clinic) and
write it (the visit's therapist and admins), the audit, and a cost that does not grow with the
patient's history."""

import pytest

from backcare.accounts.models import Role
from backcare.core.errors import NotFoundError
from backcare.core.models import AuditEvent
from backcare.visits import queries
from backcare.visits.tests.factories import VisitWorld, make_signed_visit
from tests.factories import make_clinic, make_member, make_therapist, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> VisitWorld:
    return VisitWorld()


def test_the_page_has_the_note_plan_limits_preferences_and_last_visits(world):
    make_signed_visit(world, days_ago=7)
    visit = world.open()
    page = queries.get_visit_page(world.user, visit.pk)
    assert page.note == visit.note
    assert [t.technique.code for t in page.techniques] == ["swedish"]
    assert page.plan == world.plan
    assert [t.muscle for t in page.plan_techniques] == ["erector_spinae"]
    assert page.limits.max_pressure_level == 3
    assert "deep_tissue" in page.limits.excluded_techniques
    assert "leg_left" in page.limits.avoid_regions
    assert page.hold.may_book
    assert page.preferences is not None
    assert page.preferences.avoid_areas == ["feet"]
    assert [v.values["next_focus"] for v in page.previous] == ["Gluteals, visit 7"]  # amended
    assert page.can_write
    assert page.may_edit
    event = AuditEvent.objects.get(action="visit.view")
    assert (event.patient_id, event.object_id) == (world.patient.pk, str(visit.pk))


def test_the_last_visits_are_newest_first_and_at_most_five(world):
    for days in range(1, 8):
        make_signed_visit(world, days_ago=days)
    page = queries.get_visit_page(world.user, world.open().pk)
    assert [v.visit.note.next_focus for v in page.previous] == [
        f"Glutes, visit {d}" for d in range(1, 6)
    ]


def test_a_colleague_at_the_clinic_reads_the_note_but_may_not_write_it(world):
    visit = world.open()
    page = queries.get_visit_page(world.colleague.user, visit.pk)
    assert not page.can_write
    assert not page.may_edit
    with pytest.raises(NotFoundError):
        queries.get_visit_page_for_writing(world.colleague.user, visit.pk, action="visit.note.save")
    assert AuditEvent.objects.filter(action="visit.note.save", outcome="denied").exists()
    assert queries.get_visit_page(world.admin, visit.pk).can_write


@pytest.mark.parametrize(
    "who", ["front_desk", "patient", "referring_clinician", "stranger", "other_clinic"]
)
def test_anyone_else_gets_not_found_and_the_attempt_is_audited(world, who):
    visit = world.open()
    other = make_clinic("Other")
    viewer = {
        "front_desk": world.desk,
        "patient": make_member(world.clinic, Role.PATIENT),
        "referring_clinician": make_member(world.clinic, Role.REFERRING_CLINICIAN),
        "stranger": make_user(),
        "other_clinic": make_therapist(other).user,
    }[who]
    with pytest.raises(NotFoundError):
        queries.get_visit_page(viewer, visit.pk)
    denied = AuditEvent.objects.get(action="visit.view", outcome="denied")
    assert denied.actor_id == viewer.pk


def test_a_patient_does_not_read_their_own_visit_note(world):
    from backcare.patients.models import Patient

    user = make_user()
    Patient.objects.filter(pk=world.patient.pk).update(user=user)
    make_member(world.clinic, Role.PATIENT, user=user)
    with pytest.raises(NotFoundError):
        queries.get_visit_page(user, world.open().pk)


def test_an_unknown_visit_is_not_found(world):
    import uuid

    with pytest.raises(NotFoundError):
        queries.get_visit_page(world.user, uuid.uuid4())


@pytest.mark.parametrize("previous", [1, 50])
def test_the_page_costs_the_same_queries_whatever_the_history(
    world, django_assert_num_queries, previous
):
    for days in range(1, previous + 1):
        make_signed_visit(world, days_ago=days)
    visit = world.open()
    queries.get_visit_page(world.user, visit.pk)  # the viewer's memberships are cached after
    with django_assert_num_queries(PAGE_QUERIES):
        queries.get_visit_page(world.user, visit.pk)


# Visit with note; patient; techniques; amendments; plan, its home care and its techniques;
# hold (screenings, clearances, overrides); offered techniques; last visits and their
# amendments; the audit event.
PAGE_QUERIES = 14
