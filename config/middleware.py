"""Domain errors that escape a page view (the admin, public pages) become the page a person
expects instead of a 500: ``Forbidden`` the 403 page, ``NotFound`` the 404 page. The API maps
them itself (``config.api.errors``); an admin view that can say more catches them and shows a
message instead."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.views import defaults

from config.errors import Forbidden, NotFound


class DomainErrorsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Forbidden):
            return defaults.permission_denied(request, PermissionDenied(str(exception)))
        if isinstance(exception, NotFound):
            return defaults.page_not_found(request, Http404(str(exception)))
        return None
