"""One pagination style for every list of the API (design 6): page numbers.

``?page=N`` (from 1, default 1) and ``?page_size=M`` (1 to ``MAX_PAGE_SIZE``, default the
``PAGE_SIZE`` setting). A page answers ``{"count", "next", "previous", "results"}`` (a list may
add fields of its own, as a run's transition records add ``columns``).

Anything else is a 400 at the parameter's path, never a silent default nor a 500: a page or size
that is not a whole number, zero, negative, a size above the maximum, a page past the last one
(``{"errors": [{"path": "page", "message": "a page number from 1 to 3"}]}``); page 1 of an empty
list is an empty page. The checks live in ``config.pages``, shared with views that page
something other than a queryset. The OpenAPI schema documents both parameters with their bounds
on every operation that answers a page (``config.api.openapi.Page``).
"""

from rest_framework import pagination

from config.pages import MAX_PAGE_SIZE, check_page, default_page_size, page_numbers


class PageNumberPagination(pagination.PageNumberPagination):
    """The API's paginator (``DEFAULT_PAGINATION_CLASS``; module docstring)."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    last_page_strings = ()

    def get_page_size(self, request):
        return page_numbers(request.query_params, max_size=self.max_page_size)[1]

    def paginate_queryset(self, queryset, request, view=None):
        number, size = page_numbers(request.query_params, max_size=self.max_page_size)
        paginator = self.django_paginator_class(queryset, size)
        check_page(number, size, paginator.count, max_size=self.max_page_size)
        self.page = paginator.page(number)
        self.request = request
        return list(self.page)

    def get_schema_operation_parameters(self, view):
        return parameters(self.max_page_size)


def parameters(max_size: int = MAX_PAGE_SIZE) -> list[dict]:
    """The OpenAPI query parameters ``page`` and ``page_size``, with their bounds."""
    return [
        {
            "name": "page",
            "required": False,
            "in": "query",
            "description": "Page number, from 1; a page past the last one is a 400.",
            "schema": {"type": "integer", "minimum": 1},
        },
        {
            "name": "page_size",
            "required": False,
            "in": "query",
            "description": f"Results per page, from 1 to {max_size} (default "
            f"{default_page_size()}).",
            "schema": {"type": "integer", "minimum": 1, "maximum": max_size},
        },
    ]
