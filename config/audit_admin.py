"""The audit trail in the admin (issue 14) and the user admin that keeps it whole.

- *Audit trail* (``LogEntry``): newest first, filterable by object (``?object=<content type
  id>:<object id>``, the campaign's History links there too), user, action, event and time
  (date hierarchy), searchable by object and message. Append-only: no add, change or delete
  here, not even for superusers (and PostgreSQL refuses UPDATE and DELETE, ``config.audit``).
- *Users*: a user who has audit entries is deactivated instead of deleted (one at a time or a
  selection), with a message saying so; the others are deleted as usual.

Registered by ``config.apps.CampaignsAdminConfig.ready`` after the admin's autodiscovery.
"""

from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.contenttypes.models import ContentType
from django.shortcuts import redirect
from django.utils.html import format_html

from config import audit


class ObjectFilter(admin.SimpleListFilter):
    """One object's entries: ``?object=<content type id>:<object id>``."""

    title = "object"
    parameter_name = "object"

    def lookups(self, request, model_admin):
        value = self.value() or ""
        type_id, _, object_id = value.partition(":")
        if not (type_id.isdigit() and object_id):
            return []
        content_type = ContentType.objects.filter(pk=type_id).first()
        return [(value, f"{content_type.name if content_type else '?'} {object_id}")]

    def queryset(self, request, queryset):
        type_id, _, object_id = (self.value() or "").partition(":")
        if type_id.isdigit() and object_id:
            return queryset.filter(content_type_id=type_id, object_id=object_id)
        return queryset


EVENTS = [
    ("publish", "published"),
    ("publication_requested", "sent for approval"),
    ("approve", "approved"),
    ("reject", "rejected"),
    ("approval_voided", "approval voided"),
    ("task_assigned", "task assigned"),
    ("task_expired", "task expired"),
    ("edit", "definition changed"),
    ("test_run", "test run"),
    ("roles_changed", "roles changed"),
    ("permissions_changed", "permissions changed"),
    ("import", "import"),
    ("policy_saved", "policy saved"),
]


class EventFilter(admin.SimpleListFilter):
    title = "event"
    parameter_name = "event"

    def lookups(self, request, model_admin):
        return EVENTS

    def queryset(self, request, queryset):
        return queryset.filter(audit.event_filter(self.value())) if self.value() else queryset


@admin.register(LogEntry)
class AuditTrailAdmin(admin.ModelAdmin):
    list_display = ("action_time", "user", "by", "event", "object_link", "message")
    list_filter = (
        ObjectFilter,
        EventFilter,
        "action_flag",
        ("user", admin.RelatedOnlyFieldListFilter),
        "content_type",
    )
    list_select_related = ("user", "content_type")
    date_hierarchy = "action_time"
    search_fields = ("object_repr", "change_message", "user__username")
    fields = ("action_time", "user", "by", "event", "object_link", "message", "before", "after")
    readonly_fields = fields
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # append-only, for everyone

    def has_delete_permission(self, request, obj=None):
        return False  # append-only, for everyone

    def _described(self, obj):
        cached = getattr(obj, "_described", None)
        if cached is None:
            cached = obj._described = audit.describe(obj)
        return cached

    @admin.display(description="by")
    def by(self, obj):
        return self._described(obj)["by"]

    @admin.display(description="event")
    def event(self, obj):
        return self._described(obj)["event"]

    @admin.display(description="message")
    def message(self, obj):
        return self._described(obj)["message"]

    @admin.display(description="before")
    def before(self, obj):
        return self._described(obj)["before"] or "-"

    @admin.display(description="after")
    def after(self, obj):
        return self._described(obj)["after"] or "-"

    @admin.display(description="object", ordering="object_repr")
    def object_link(self, obj):
        url = obj.get_admin_url()
        return format_html('<a href="{}">{}</a>', url, obj.object_repr) if url else obj.object_repr


def _audited(users):
    return set(LogEntry.objects.filter(user__in=users).values_list("user_id", flat=True))


def _deactivate(request, user):
    user.is_active = False
    user.save(update_fields=["is_active"])
    request._deactivated = True
    messages.warning(
        request,
        f"{user.get_username()} has audit entries: deactivated instead of deleted "
        "(the audit trail is kept whole).",
    )


class AuditedUserAdmin(UserAdmin):
    """Users with audit entries are deactivated, never deleted (module docstring)."""

    def get_deleted_objects(self, objs, request):
        to_delete, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        entries = LogEntry._meta.verbose_name
        perms_needed = {p for p in perms_needed if p != entries}
        counts.pop(LogEntry._meta.verbose_name_plural, None)
        return to_delete, counts, perms_needed, protected

    def log_deletions(self, request, queryset):
        """The deleted users as deletions; the audited ones as deactivations (what happens)."""
        audited = _audited(list(queryset))
        for user in queryset:
            if user.pk in audited:
                audit.log_change(
                    user=request.user, obj=user, action="change", event="user_deactivated",
                    message=f"{user.get_username()} deactivated (has audit entries: not deleted).",
                    before={"is_active": user.is_active}, after={"is_active": False},
                )  # fmt: skip
        return super().log_deletions(request, [u for u in queryset if u.pk not in audited])

    def response_delete(self, request, obj_display, obj_id):
        if getattr(request, "_deactivated", False):
            return redirect("admin:auth_user_change", obj_id)
        return super().response_delete(request, obj_display, obj_id)

    def delete_model(self, request, obj):
        if _audited([obj]):
            _deactivate(request, obj)
        else:
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        audited = _audited(queryset)
        for user in queryset.filter(pk__in=audited):
            _deactivate(request, user)
        super().delete_queryset(request, queryset.exclude(pk__in=audited))


def register(site) -> None:
    User = get_user_model()
    if site.is_registered(User):
        site.unregister(User)
    site.register(User, AuditedUserAdmin)
