"""Reading a request's body and query parameters the same way everywhere, with 400s at paths.

- ``body_object(request, allowed) -> dict``: the JSON body as an object (an empty body is
  ``{}``); anything but an object is an error at ``""``, a key not in ``allowed`` an error at its
  own path ("unknown field"), as the schema and campaign documents already refuse them.
- ``int_param(request, name) -> int | None``: a whole number (ASCII digits) or None when absent;
  anything else (``?campaign=null``) is an error at ``name``.
- ``flag_param(request, name) -> bool``: ``true``/``1``/``yes`` or ``false``/``0``/``no`` (or
  absent: false); anything else is an error at ``name``.
"""

import re

from config.errors import ValidationFailed

WHOLE_NUMBER = re.compile(r"[0-9]{1,100}")
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no", "")


def body_object(request, allowed) -> dict:
    data = request.data  # an empty body is an empty QueryDict
    if not isinstance(data, dict):
        raise ValidationFailed([{"path": "", "message": "the body must be a JSON object"}])
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        known = ", ".join(allowed)
        raise ValidationFailed(
            [{"path": key, "message": f"unknown field (allowed: {known})"} for key in unknown]
        )
    return dict(data.items())


def int_param(request, name) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not WHOLE_NUMBER.fullmatch(raw):
        raise ValidationFailed([{"path": name, "message": "must be a whole number, such as 12"}])
    return int(raw)


def flag_param(request, name) -> bool:
    raw = request.query_params.get(name, "").lower()
    if raw in TRUE:
        return True
    if raw in FALSE:
        return False
    raise ValidationFailed([{"path": name, "message": "must be true or false"}])
