from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=N`` (from 1) and ``?page_size=M`` (at most 1000)."""

    page_size_query_param = "page_size"
    max_page_size = 1000
