"""Keeps this process's runtime schema models current (design 3, notes "Dynamic models")."""

from audiences import dynamic


class SchemaGenerationMiddleware:
    """At the start of each request, rebuild the schema models if another process changed them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        dynamic.ensure_current()
        return self.get_response(request)
