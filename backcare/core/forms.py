"""Form helpers shared by every app."""

from django import forms

from backcare.core.errors import DomainError


class DomainErrorFormMixin:
    """Shows a service's `DomainError` on the form, at the top and beside the fields it names,
    so that the page can be shown again with everything the user typed."""

    def add_domain_error(self, error: DomainError) -> None:
        assert isinstance(self, forms.BaseForm)
        self.add_error(None, error.message)
        for name, message in error.field_errors.items():
            if name in self.fields:
                self.add_error(name, message)
