"""Form fields with the limits of design 5.0, for the admin.

``JSONField``: Django's form JSONField parsed by ``config.inputs.loads``, so a JSON text nested
too deep (which makes Python's decoder raise ``RecursionError``) or holding a NUL character or a
lone surrogate is an error beside the field, never a 500. ``CampaignsAdminConfig.ready`` makes it
the form field of every model ``JSONField`` in the admin; forms that parse JSON themselves call
``parse_json``. Django's ``CharField`` already refuses NUL characters and checks ``max_length``.
"""

from django import forms

from config.errors import ValidationFailed
from config.inputs import loads


def parse_json(text: str):
    """The JSON value of ``text``, or ``forms.ValidationError`` with every problem and its path."""
    try:
        return loads(text)
    except ValidationFailed as exc:
        raise forms.ValidationError([str(exc)]) from None


class JSONField(forms.JSONField):
    def prepare_value(self, value):
        """No value shows as an empty box, not ``null`` (an empty box saves as no value)."""
        return "" if value is None else super().prepare_value(value)

    def to_python(self, value):
        if self.disabled or value in self.empty_values or not isinstance(value, str):
            return super().to_python(value)
        parsed = parse_json(value)
        return forms.fields.JSONString(parsed) if isinstance(parsed, str) else parsed

    def bound_data(self, data, initial):
        if self.disabled or not isinstance(data, str):
            return super().bound_data(data, initial)
        try:
            return loads(data)
        except ValidationFailed:
            return forms.fields.InvalidJSONInput(data)
