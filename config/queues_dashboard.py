"""django-rq's job queue dashboard, under ``/admin/django-rq/``, for staff with the named
permission ``campaigns.view_job_queues`` (design 9): it shows job arguments and lets people
requeue or delete jobs, so the staff flag alone is not enough. Its token-authenticated JSON
stats keep django-rq's own authentication. A queue (or scheduler, connection) number past the
configured ones is the 404 page (django-rq itself fails with an ``IndexError``)."""

from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

from config.access import allowed

PERMISSION = "campaigns.view_job_queues"


def _connections():
    from django_rq.connection_utils import get_unique_connection_configs

    return len(get_unique_connection_configs())


INDEXES = {
    "queue_index": lambda: len(settings.RQ_QUEUES),
    "scheduler_index": _connections,
    "connection_index": _connections,
}


def require_queue_permission(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if (
            request.user.is_active
            and request.user.is_staff
            and not allowed(request.user, PERMISSION)
        ):
            raise PermissionDenied(f"The job queues dashboard needs {PERMISSION}")
        for name, count in INDEXES.items():
            if name in kwargs and not 0 <= kwargs[name] < count():
                raise Http404(f"No {name.replace('_index', '')} number {kwargs[name]}.")
        return view(request, *args, **kwargs)

    return admin.site.admin_view(wrapper)


urlpatterns = get_api_urlpatterns() + get_admin_urlpatterns(view_wrapper=require_queue_permission)
app_name = "django_rq"
