"""Form helpers shared by every app."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

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


class KnownRowsField(forms.ModelMultipleChoiceField):
    """A choice of rows from a short, managed list (techniques). A well-formed key that is not in
    the list is an invalid choice before any query, so a key no database column can hold (a
    number beyond 64 bits) shows the page again instead of becoming a database error."""

    def clean(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            self._refuse_unknown(value)
        return super().clean(value)

    def _refuse_unknown(self, value: list[Any] | tuple[Any, ...]) -> None:
        assert self.queryset is not None
        meta = self.queryset.model._meta
        key = meta.get_field(self.to_field_name) if self.to_field_name else meta.pk
        assert key is not None
        known = set(self.queryset.values_list(key.name, flat=True))
        for chosen in value:
            try:
                typed = key.to_python(chosen)
            except ValidationError:
                continue  # malformed: Django's own check words it
            if typed not in known:
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": chosen},
                )
