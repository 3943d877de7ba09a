"""The table of the data browser (``audiences.admin_data``): its columns in the schema's order with
readable headers that sort, and its cells as people read them (dates in the user's time zone,
yes / no, many-to-one values as links to the record they name).

- ``table_columns(schema, model) -> [Column]``;
- ``sort_order(param, columns) -> [ORM order]``: ``o=name`` ascending, ``o=-name`` descending,
  empty values last either way, then the primary key so pages never overlap; an unknown name
  sorts by the key;
- ``headers(columns, params, order) -> [{"label", "url", "sorted"}]``: each header's link sorts by
  its column, and a second click reverses it;
- ``cell(record, column) -> str``: safe HTML.
"""

import datetime
from dataclasses import dataclass

from django.db.models import F
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html

from audiences import dynamic


@dataclass(frozen=True)
class Column:
    name: str  # the attribute
    attname: str  # the model's attribute name
    label: str
    link_to: str = ""  # the schema a many-to-one link through this attribute points to


def label_of(name: str) -> str:
    return name.replace("_", " ").capitalize()


def table_columns(schema, model) -> list[Column]:
    links = {ln.via: ln.to.name for ln in schema.links.select_related("to")}
    return [
        Column(a.name, dynamic.attname_of(model, a.name), label_of(a.name), links.get(a.name, ""))
        for a in schema.attributes.all()
    ]


def sort_order(param: str, columns: list[Column]) -> list:
    name = param.removeprefix("-")
    found = next((c for c in columns if c.name == name), None)
    if found is None:
        return ["pk"]
    if param.startswith("-"):
        return [F(found.attname).desc(nulls_last=True), "-pk"]
    return [F(found.attname).asc(nulls_last=True), "pk"]


def headers(columns: list[Column], params, order: list[str]) -> list[dict]:
    current = params.get("o", "")
    found = []
    for column in columns:
        query = params.copy()
        query.pop("page", None)
        query["o"] = f"-{column.name}" if current == column.name else column.name
        sorted_as = {column.name: "ascending", f"-{column.name}": "descending"}.get(current, "")
        found.append({"label": column.label, "url": f"?{query.urlencode()}", "sorted": sorted_as})
    return found


def readable(value) -> str:
    """A value as people read it: dates in the active (the user's) time zone, yes / no."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return formats.date_format(local, "DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "DATE_FORMAT")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def cell(record, column: Column) -> str:
    value = getattr(record, column.attname)
    if column.link_to and value is not None:
        url = reverse("admin:audiences_data_record", args=[column.link_to, value])
        return format_html('<a href="{}" class="data-link">{}</a>', url, value)
    return format_html("{}", readable(value))
