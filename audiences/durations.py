"""Durations of design 5.0: an integer and a unit (``s``, ``min``, ``h``, ``d``, ``w``, ``mo``, ``y``;
months and years are calendar ones), e.g. ``"90min"``, ``"30d"``, ``"6mo"``. ``{"now": ...}`` takes
a sign: ``"-18y"``, ``"+2d"``. The same grammar everywhere (rules, waits, expiries, schedules).

- ``parse(text, *, path, signed=False) -> relativedelta`` raises ``DurationError`` (with ``path``
  and ``message``) for anything else.
- ``is_valid(text, *, signed=False) -> bool``.
"""

import re

from dateutil.relativedelta import relativedelta

UNITS = {
    "s": "seconds",
    "min": "minutes",
    "h": "hours",
    "d": "days",
    "w": "weeks",
    "mo": "months",
    "y": "years",
}
_UNSIGNED = re.compile(r"^(\d{1,9})(s|min|h|d|w|mo|y)$")
_SIGNED = re.compile(r"^([+-])(\d{1,9})(s|min|h|d|w|mo|y)$")


class DurationError(ValueError):
    def __init__(self, path, message):
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}")


def parse(text, *, path="", signed=False):
    """The relativedelta of ``text``; ``signed`` requires a leading ``+`` or ``-``."""
    if not isinstance(text, str):
        raise DurationError(path, 'a duration is a string such as "30d"')
    match = (_SIGNED if signed else _UNSIGNED).match(text)
    if not match:
        example = '"-18y" or "+2d"' if signed else '"90min", "30d" or "6mo"'
        raise DurationError(path, f"{text!r} is not a duration such as {example}")
    sign = -1 if signed and match.group(1) == "-" else 1
    amount, unit = int(match.group(2 if signed else 1)), match.group(3 if signed else 2)
    return relativedelta(**{UNITS[unit]: sign * amount})


def is_valid(text, *, signed=False):
    try:
        parse(text, signed=signed)
    except DurationError:
        return False
    return True
