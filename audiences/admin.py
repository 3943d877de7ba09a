"""Admin for schemas: a schema with inline attributes and links.

Saving never writes the metadata rows directly: the form and its inlines are assembled into a
design 5.1 document, validated by ``audiences.schema_definitions`` (errors shown on the rows they
concern), then passed to ``audiences.services.schemas`` so that tables are created or altered exactly
as through the API. Attributes ticked for deletion are deleted through ``delete_attribute`` (refused
while used); deleting a schema goes through ``delete_schema``. Problems only the database can find
(values that do not convert, a busy table) come back as messages and nothing is changed.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from audiences import ddl
from audiences.models import Attribute, Link, Schema
from audiences.schema_definitions import resolve_create
from audiences.schema_patches import resolve_patch
from audiences.services import schemas as services
from config.errors import Conflict, ValidationFailed

ATTRIBUTE_KEYS = ("name", "type", "required", "indexed", "enum", "precision", "scale")
LINK_KEYS = ("name", "to", "via", "reverse")


def _rows(formset):
    """(form, values) of the filled-in rows that are kept, in order."""
    out = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None)
        if not data or data.get("DELETE"):
            continue
        out.append((form, data))
    return out


def _attribute_value(data):
    return {k: data[k] for k in ATTRIBUTE_KEYS if data.get(k) not in (None, "", False)}


def _link_value(data):
    value = {k: data.get(k) for k in LINK_KEYS if data.get(k)}
    value["to"] = data["to"].name
    return value


class LinkFormSet(forms.BaseInlineFormSet):
    """The last inline: validates the whole schema document once every row is clean."""

    request = None

    def clean(self):
        super().clean()
        state = getattr(self.request, "_schema_admin", {})
        form, attributes = state.get("form"), state.get("attributes")
        if form is None or attributes is None or not form.is_valid() or not attributes.is_valid():
            return
        document, places = _assemble(form, attributes, self)
        try:
            if form.instance.pk:
                resolve_patch(form.instance.name, document)
            else:
                resolve_create(document)
        except ValidationFailed as exc:
            leftovers = [_place(error, places, form) for error in exc.errors]
            leftovers = [message for message in leftovers if message]
            if leftovers or not exc.errors:
                raise forms.ValidationError(leftovers or "invalid schema") from exc
            raise forms.ValidationError("Please correct the rows marked below.") from exc
        state["document"] = document
        state["deleted"] = [f.instance.name for f in attributes.deleted_forms if f.instance.pk]


def _assemble(form, attributes, links):
    """The design 5.1 document (a patch when changing) and where each row's errors go."""
    data = form.cleaned_data
    document = {"label": data.get("label", ""), "targeting": data.get("targeting") or {}}
    document["version_field"] = data.get("version_field", "")
    if not form.instance.pk:
        document.update(name=data["name"], primary_key=data["primary_key"])
    places = {"attributes": [], "links": []}
    document["attributes"] = []
    for row_form, values in _rows(attributes):
        document["attributes"].append(_attribute_value(values))
        places["attributes"].append(row_form)
    document["links"] = []
    for row_form, values in _rows(links):
        if not row_form.instance.pk:
            document["links"].append(_link_value(values))
            places["links"].append(row_form)
    return document, places


def _place(error, places, form):
    """Put an error on the row field it concerns; returns the message when it has no row."""
    path, message = error["path"], error["message"]
    head, _, field = path.partition(".")
    for key in ("attributes", "links"):
        if head.startswith(f"{key}["):
            row = places[key][int(head[len(key) + 1 : -1])]
            row.add_error(field if field in row.fields else None, message)
            return None
    if path in form.fields:
        form.add_error(path, message)
        return None
    return f"{path or 'schema'}: {message}"


ATTRIBUTE_HELP = {
    "name": "Lowercase identifier used in rules and files, e.g. loyalty_points.",
    "type": "Changing the type of a stored attribute converts its values (refused if some don't).",
    "required": "Records must have a value (the primary key always does).",
    "indexed": "Adds an index: faster rules on this attribute, slightly slower imports.",
}
LINK_HELP = {
    "name": "The link's name in rules, e.g. store (customer.store.city).",
    "to": "The schema linked to.",
    "via": "This schema's attribute holding the linked schema's primary key (same type).",
    "reverse": "Optional name of the one-to-many link seen from the other schema, e.g. customers.",
}


class EnumField(forms.JSONField):
    """The allowed values as JSON; an attribute without any shows an empty box, not ``null``."""

    def prepare_value(self, value):
        return "" if value in (None, "null") else super().prepare_value(value)


class AttributeForm(forms.ModelForm):
    enum = EnumField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 1, "cols": 24, "placeholder": '["FR", "DE"]'}),
        help_text='Optional list of allowed values, e.g. ["FR", "DE"]; empty: any value.',
    )

    class Meta:
        model = Attribute
        fields = ATTRIBUTE_KEYS


class AttributeInline(admin.TabularInline):
    model = Attribute
    form = AttributeForm
    fields = ATTRIBUTE_KEYS
    extra = 1
    verbose_name_plural = "Attributes (changing a type converts the stored values)"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, help_texts=ATTRIBUTE_HELP, **kwargs)

        class Remembered(formset):
            def __init__(self, *args, **inner):
                super().__init__(*args, **inner)
                request.__dict__.setdefault("_schema_admin", {})["attributes"] = self

        return Remembered


class LinkInline(admin.TabularInline):
    model = Link
    fk_name = "schema"
    fields = LINK_KEYS
    extra = 1
    can_delete = False
    formset = LinkFormSet
    verbose_name_plural = "Links (many-to-one: 'via' holds the key of the linked schema)"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, help_texts=LINK_HELP, **kwargs)
        return type("RequestLinkFormSet", (formset,), {"request": request})


@admin.register(Schema)
class SchemaAdmin(admin.ModelAdmin):
    list_display = ("name", "label", "attribute_count", "estimated_records", "channels")
    search_fields = ("name", "label", "attributes__name")
    fields = ("name", "label", "primary_key", "version_field", "targeting")
    inlines = (AttributeInline, LinkInline)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(attribute_total=Count("attributes"))

    @admin.display(description="attributes", ordering="attribute_total")
    def attribute_count(self, obj):
        return obj.attribute_total

    @admin.display(description="records (estimate)")
    def estimated_records(self, obj):
        return ddl.estimated_rows(obj.table_name)

    @admin.display(description="targeting")
    def channels(self, obj):
        return ", ".join(sorted(obj.targeting or {})) or "-"

    def get_readonly_fields(self, request, obj=None):
        return ("name", "primary_key", "records") if obj else ()

    def get_fields(self, request, obj=None):
        return (*self.fields, "records") if obj else self.fields

    @admin.display(description="records")
    def records(self, obj):
        url = reverse("admin:audiences_data_records", args=[obj.name])
        estimate = ddl.estimated_rows(obj.table_name)
        if estimate is None:
            return format_html('<a href="{}">Browse the records</a>', url)
        return format_html('<a href="{}">Browse the records</a> (about {})', url, estimate)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class Remembered(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, **inner)
                request.__dict__.setdefault("_schema_admin", {})["form"] = self

        return Remembered

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # each deletion needs its own checks
        return actions

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        request._schema_admin = {}
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationFailed, Conflict) as exc:
            _report(request, exc)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except (ValidationFailed, Conflict) as exc:
            _report(request, exc)
            return HttpResponseRedirect(request.path.rsplit("delete/", 1)[0])

    def save_model(self, request, obj, form, change):
        """Nothing here: save_related applies the whole document through the service."""

    def save_formset(self, request, form, formset, change):
        """Inline rows are written by the service, not by the formsets."""

    def save_related(self, request, form, formsets, change):
        state = request._schema_admin
        if change:
            services.add_to_schema(
                name=form.instance.name, document=state["document"], user=request.user
            )
            for name in state["deleted"]:
                services.delete_attribute(
                    schema_name=form.instance.name,
                    attribute_name=name,
                    confirm=True,
                    user=request.user,
                )
        else:
            (schema,) = services.create_schemas(document=state["document"], user=request.user)
            form.instance.pk = schema.pk
        form.instance.refresh_from_db()

    def construct_change_message(self, request, form, formsets, add=False):
        """The formsets were not saved (the service wrote the rows); the service logs changes."""
        return ""

    def log_addition(self, request, obj, message):
        """The service already wrote the audit entry."""

    def log_change(self, request, obj, message):
        """The service already wrote the audit entry."""

    def delete_model(self, request, obj):
        services.delete_schema(name=obj.name, confirm=True, user=request.user)

    def log_deletions(self, request, queryset):
        """The service already wrote the audit entry."""


def _report(request, exc):
    if isinstance(exc, ValidationFailed):
        for error in exc.errors:
            messages.error(request, f"{error['path'] or 'schema'}: {error['message']}")
    else:
        messages.error(request, str(exc.detail))
    messages.warning(request, "Nothing was changed.")
