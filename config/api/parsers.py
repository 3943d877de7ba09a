"""The API's body parsers (``DEFAULT_PARSER_CLASSES``): DRF's, with the limits of design 5.0.

- ``JSONParser``: the body is refused with 400 when it nests deeper than
  ``config.inputs.MAX_DEPTH`` (measured on the text, before Python's decoder could recurse), or
  when a string or key holds a NUL character or a lone surrogate: each at its JSON path.
- ``FormParser`` and ``MultiPartParser``: the same for form fields (path: the field's name) and
  uploaded file names.

A view that sets ``parser_classes`` must take them from here (``tests/api/test_guards.py``
checks every view of the URLconf).
"""

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from config.errors import ValidationFailed
from config.inputs import loads, multi_value_errors, text_error


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - not {encoding} text: {exc}") from None
        return loads(text)


def form_errors(data, files=None) -> list[dict]:
    """The form fields (and uploaded file names) that ``text_error`` refuses, by field name."""
    errors = multi_value_errors(data, "field")
    for name, upload in (files or {}).items():
        problem = text_error(upload.name or "")
        if problem:
            errors.append({"path": name, "message": f"the file name {problem}"})
    return errors


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        errors = form_errors(data)
        if errors:
            raise ValidationFailed(errors)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        errors = form_errors(result.data, result.files)
        if errors:
            raise ValidationFailed(errors)
        return result
