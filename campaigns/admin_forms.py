"""Admin forms generated from activity option schemas (design 9): one field per option, with a
widget per type, so every registered kind has its form and none is written by hand.

``option_fields(kind, campaign=None) -> {name: forms.Field}``:
- ``enum`` -> a select; ``boolean`` -> a checkbox; ``integer`` / ``number`` -> number inputs with
  their bounds;
- ``x-widget`` ``schema`` / ``audience`` / ``group`` / ``user`` -> a select of the existing names
  (a stored name that no longer exists stays selectable, so the page still opens);
  ``activity`` -> a select of the campaign's activities;
- ``rule`` / ``condition`` / ``json`` and any object or list -> a JSON editor; rules and
  conditions in the rule builder (``audiences.widgets.RuleTextarea``: class ``rule-editor`` or
  ``condition-editor``, ``data-schema-option`` naming the option that gives the schema, and
  ``data-context-url``: the campaign's ``rule-context/`` endpoint, for the population flowing in
  and the variables); a list whose items hold a rule (a split's ``subsets[].where``, a test's
  ``conditions[].when``) keeps its JSON and gets one rule builder per item (``data-rule-key``);
- ``duration``, ``link``, ``column``, ``attribute``, ``identifier`` -> a text input with an
  example; ``file`` -> a text input offering the uploaded campaign files' names (a path under
  ``CAMPAIGN_FILES_DIR`` may be typed); ``template`` / ``textarea`` -> a textarea;
- any other string -> a text input.
Every field is optional (a draft may be incomplete; ``validate/`` says what is missing). Values
come back as the JSON the definition holds: ``options_from(kind, cleaned_data)``.
"""

import json

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from audiences.models import SavedAudience, Schema
from audiences.widgets import RuleTextarea
from config.forms import JSONField

JSON_WIDGETS = {"rule", "condition", "json"}
REFERENCES = {
    "schema": lambda: Schema.objects.values_list("name", flat=True),
    "audience": lambda: SavedAudience.objects.values_list("name", flat=True),
    "group": lambda: Group.objects.values_list("name", flat=True),
    "user": lambda: (
        get_user_model().objects.filter(is_active=True).values_list("username", flat=True)
    ),
}


class JSONOption(JSONField):
    """A JSON value; an empty box is the option's default (null)."""

    def prepare_value(self, value):
        if isinstance(value, str):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)


def _choices(names, nullable=True):
    return [("", "---------")] * bool(nullable) + [(n, n) for n in names]


def _help(prop):
    text = prop.get("description", "")
    default = prop.get("default")
    if default not in (None, "", [], {}):
        text += f" Default: {json.dumps(default, ensure_ascii=False)}."
    return text.strip()


def _item_rule(prop):
    """(key, widget, rule schema) of the rule inside each item of a list option, or None."""
    items = prop.get("items", {}) if prop.get("type") == "array" else {}
    for key, node in items.get("properties", {}).items():
        if node.get("x-widget") in ("rule", "condition"):
            source = node.get("x-rule-schema", "schema")
            return (key, node["x-widget"], source) if source in ("schema", "inbound") else None
    return None


def _json_field(prop, widget, campaign=None, name=""):
    attrs = {"rows": 6 if widget in ("rule", "condition") else 3, "class": "vLargeTextField"}
    nested = _item_rule(prop)
    if widget not in ("rule", "condition") and nested is None:
        return JSONOption(required=False, widget=forms.Textarea(attrs=attrs), help_text=_help(prop))
    if nested is None:
        attrs["class"] += f" {widget}-editor"
        attrs["data-schema-option"] = prop.get("x-rule-schema", "schema")
    else:
        key, mode, source = nested
        noun = name.removesuffix("s").replace("_", " ") or "item"
        attrs.update({"data-rule-key": key, "data-rule-mode": mode, "data-rule-noun": noun})
        attrs["data-schema-option"] = source
    if campaign is not None and campaign.pk:
        attrs["data-context-url"] = reverse("campaign-rule-context", args=[campaign.pk])
    return JSONOption(required=False, widget=RuleTextarea(attrs=attrs), help_text=_help(prop))


def _reference_field(prop, widget, campaign):
    if widget == "activity":
        keys = campaign.activities.values_list("key", flat=True) if campaign else []
        names = list(keys)
    else:
        names = list(REFERENCES[widget]())
    return forms.TypedChoiceField(
        required=False, choices=_choices(names), empty_value=None, help_text=_help(prop)
    )


def _scalar_field(prop, widget):
    kind, help_text = prop.get("type"), _help(prop)
    if prop.get("enum"):
        nullable = prop.get("nullable", False)
        return forms.TypedChoiceField(
            required=False,
            choices=_choices(prop["enum"], nullable),
            empty_value=None,
            help_text=help_text,
        )
    if kind == "boolean":
        return forms.BooleanField(required=False, help_text=help_text)
    if kind in ("integer", "number"):
        field = forms.IntegerField if kind == "integer" else forms.FloatField
        return field(
            required=False,
            min_value=prop.get("minimum"),
            max_value=prop.get("maximum"),
            help_text=help_text,
        )
    if widget in ("template", "textarea"):
        rows = 8 if widget == "template" else 3
        return forms.CharField(
            required=False,
            widget=forms.Textarea(attrs={"rows": rows, "class": "vLargeTextField"}),
            help_text=help_text,
        )
    placeholder = PLACEHOLDERS.get(widget, "")
    attrs = {"placeholder": placeholder, "class": "vTextField"}
    text = ChoicesInput(attrs=attrs, options=_file_names) if widget == "file" else None
    return forms.CharField(
        required=False, widget=text or forms.TextInput(attrs=attrs), help_text=help_text
    )


PLACEHOLDERS = {
    "duration": 'e.g. "2d", "90min", "6mo"',
    "link": 'a link path, e.g. "purchases" or "store"',
    "column": 'e.g. "email", "store.city" or "target.total"',
    "attribute": "an attribute of the schema",
    "identifier": "lowercase letters, digits, underscores",
    "file": "an uploaded file's name, or a path under CAMPAIGN_FILES_DIR",
}


def _file_names():
    from campaigns.models import CampaignFile

    return CampaignFile.objects.values_list("name", flat=True)


class ChoicesInput(forms.TextInput):
    """A text input offering names (an HTML ``datalist``) while accepting any text."""

    def __init__(self, attrs=None, options=None):
        super().__init__(attrs)
        self.options = options

    def render(self, name, value, attrs=None, renderer=None):
        list_id = f"{(attrs or {}).get('id') or name}_choices"
        html = super().render(name, value, {**(attrs or {}), "list": list_id}, renderer)
        items = format_html_join("", '<option value="{}">', ((n,) for n in self.options()))
        return format_html('{}<datalist id="{}">{}</datalist>', html, list_id, items)


def option_field(prop: dict, campaign=None, name: str = "") -> forms.Field:
    widget = prop.get("x-widget")
    if widget in JSON_WIDGETS or prop.get("type") in ("object", "array"):
        return _json_field(prop, widget, campaign, name)
    if widget in REFERENCES or widget == "activity":
        return _reference_field(prop, widget, campaign)
    return _scalar_field(prop, widget)


def option_fields(kind, campaign=None) -> dict:
    """One form field per option of ``kind``, in the schema's order, labelled in words."""
    fields = {}
    for name, prop in kind.options.get("properties", {}).items():
        field = option_field(prop, campaign, name)
        field.label = prop.get("title") or name.replace("_", " ").capitalize()
        fields[f"option_{name}"] = field
    return fields


def options_from(kind, cleaned_data: dict) -> dict:
    """The options as the definition holds them: empty text is the default."""
    options = {}
    for name, prop in kind.options.get("properties", {}).items():
        value = cleaned_data.get(f"option_{name}")
        if value in ("", None):
            value = prop.get("default")
        options[name] = value
    return options


def initial_from(kind, options: dict) -> dict:
    return {f"option_{name}": value for name, value in kind.with_defaults(options).items()}
