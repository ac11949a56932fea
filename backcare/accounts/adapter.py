from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are created by clinics (staff invitations, patient records), not by open signup."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
