"""Form fields every app shares."""

from django import forms
from django.core.exceptions import ValidationError

# What a database id column holds (bigint / SQLite INTEGER).
ID_MIN, ID_MAX = -(2**63), 2**63 - 1


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Django's field, but an id past what the database holds is "not one of the choices", like any other id that
    names nothing. Django sends the list to the database in one `IN (...)`, where SQLite raises OverflowError and
    PostgreSQL a DataError: a 500 for a tampered checkbox value instead of the field's message."""

    def _check_values(self, value):
        for pk in value or ():
            try:
                number = int(str(pk).strip())
            except ValueError:
                continue  # not a number: Django's own check says so
            if not ID_MIN <= number <= ID_MAX:
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                      params={"value": pk})
        return super()._check_values(value)
