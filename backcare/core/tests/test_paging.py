import pytest

from backcare.accounts.models import Clinic
from backcare.core.paging import page_after
from tests.factories import make_clinic

pytestmark = pytest.mark.django_db


def test_pages_after_the_last_id_read_every_row_once_in_id_order():
    made = sorted(make_clinic().pk for _ in range(5))
    seen = []
    after = None
    while page := page_after(Clinic.objects.filter(pk__in=made), after, 2):
        assert len(page) <= 2
        seen += [c.pk for c in page]
        after = page[-1].pk
    assert seen == made
