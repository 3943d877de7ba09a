"""Page numbers (design 6), checked the same way wherever a list is paged: the API's paginator
(``config.api.pagination``), a run's transition records (``campaigns.reads``), the admin.

- ``page_numbers(query, *, default_size=None, max_size=MAX_PAGE_SIZE) -> (page, page_size)``
  from ``?page=`` (from 1, default 1) and ``?page_size=`` (1 to ``max_size``, default the
  ``PAGE_SIZE`` of ``REST_FRAMEWORK``): anything else, not a whole number, zero, negative, too
  big, is a ``ValidationFailed`` at ``page`` / ``page_size``;
- ``check_numbers(page, page_size)``: the two numbers, for callers that got them as integers;
- ``check_page(page, page_size, count)``: the same, and a page past the last one is a
  ``ValidationFailed`` at ``page`` (page 1 always exists, empty for an empty list).
"""

import re

from django.conf import settings

from config.errors import ValidationFailed

MAX_PAGE_SIZE = 1000
WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")


def default_page_size() -> int:
    return getattr(settings, "REST_FRAMEWORK", {}).get("PAGE_SIZE") or 50


def _number(raw, default, maximum):
    if raw is None or raw == "":
        return default
    if not isinstance(raw, str) or not WHOLE_NUMBER.fullmatch(raw) or not 1 <= int(raw) <= maximum:
        return None
    return int(raw)


def _errors(page, size, max_size):
    errors = []
    if page is None:
        errors.append({"path": "page", "message": "a page number from 1"})
    if size is None:
        errors.append({"path": "page_size", "message": f"a page size from 1 to {max_size}"})
    return errors


def page_numbers(query, *, default_size=None, max_size=MAX_PAGE_SIZE) -> tuple[int, int]:
    page = _number(query.get("page"), 1, 10**18)
    size = _number(query.get("page_size"), default_size or default_page_size(), max_size)
    errors = _errors(page, size, max_size)
    if errors:
        raise ValidationFailed(errors)
    return page, size


def _whole(value, maximum):
    ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= maximum
    return value if ok else None


def check_numbers(page, page_size, *, max_size=MAX_PAGE_SIZE) -> None:
    errors = _errors(_whole(page, 10**18), _whole(page_size, max_size), max_size)
    if errors:
        raise ValidationFailed(errors)


def check_page(page, page_size, count, *, max_size=MAX_PAGE_SIZE) -> None:
    check_numbers(page, page_size, max_size=max_size)
    pages = max(1, -(-count // page_size))
    if page > pages:
        raise ValidationFailed([{"path": "page", "message": f"a page number from 1 to {pages}"}])
