"""The rule builder's form widget (design 12): a textarea holding a rule's JSON that the builder
(``audiences/static/audiences/rule_builder/``) enhances on page load, with its scripts and styles
as form media, so any admin form that uses it loads them. The JavaScript API is documented in
``builder.js`` and docs/rules.md (the canvas of campaigns uses it directly)."""

from django import forms

RULE_BUILDER_JS = [
    "audiences/vendor/sortablejs/Sortable.min.js",
    "audiences/rule_builder/model.js",
    "audiences/rule_builder/view.js",
    "audiences/rule_builder/fields.js",
    "audiences/rule_builder/values.js",
    "audiences/rule_builder/builder.js",
    "audiences/rule_builder/items.js",
    "audiences/rule_builder/autoload.js",
]
RULE_BUILDER_CSS = ["audiences/rule_builder/rule_builder.css"]


def rule_builder_media() -> forms.Media:
    """The scripts and styles of the rule builder, for pages that attach it themselves."""
    return forms.Media(js=RULE_BUILDER_JS, css={"all": RULE_BUILDER_CSS})


class RuleTextarea(forms.Textarea):
    """A rule's JSON, enhanced into the rule builder. ``attrs`` carry the builder's data
    attributes (``data-schema``, ``data-schema-input``, ``data-schema-option``...: see
    ``autoload.js``); without any class of its own it gets ``data-rule-builder``."""

    def __init__(self, attrs=None):
        attrs = {"rows": 10, "spellcheck": "false", **(attrs or {})}
        classes = attrs.get("class", "")
        if not (
            "rule-editor" in classes or "condition-editor" in classes or "data-rule-key" in attrs
        ):
            attrs.setdefault("data-rule-builder", "")
        super().__init__(attrs)

    @property
    def media(self):
        return rule_builder_media()
