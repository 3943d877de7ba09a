"""Patches of a stored schema (design 5.1 ``PATCH``): merged with the stored definition, then checked
as a whole by ``audiences.schema_definitions.check``.

``resolve_patch(name, document)`` returns ``(merged SchemaSpec, PatchPlan)``: attributes and links are
added; an attribute given again with another type or flags is changed; ``label``, ``targeting`` and
``version_field`` are replaced when given; nothing is removed. The name and primary key cannot change,
nor can an existing link. Raises ``ValidationFailed`` with paths relative to the patch document.
"""

import copy
from dataclasses import dataclass, field

from audiences.schema_definitions import CHANGEABLE, Errors, check, parse_schema, stored_specs


@dataclass
class PatchPlan:
    added_attributes: list = field(default_factory=list)
    changed_attributes: list = field(default_factory=list)  # [(old AttributeSpec, new)]
    added_links: list = field(default_factory=list)
    changed_settings: list = field(default_factory=list)  # label, targeting, version_field


def _merge_attributes(merged, given, plan, errors):
    for attribute in given:
        old = merged.attribute(attribute.name)
        if old is None:
            merged.attributes.append(attribute)
            plan.added_attributes.append(attribute)
        elif any(getattr(old, key) != getattr(attribute, key) for key in CHANGEABLE):
            if attribute.name == merged.primary_key and not attribute.required:
                attribute.required = True
            merged.attributes[merged.attributes.index(old)] = attribute
            plan.changed_attributes.append((old, attribute))


def _merge_links(merged, given, plan, errors):
    for link in given:
        old = next((item for item in merged.links if item.name == link.name), None)
        if old is None:
            merged.links.append(link)
            plan.added_links.append(link)
        elif (old.to, old.via, old.reverse) != (link.to, link.via, link.reverse):
            errors.add(link.path, "an existing link cannot be changed: delete it and add a new one")


def _merge_settings(merged, raw, patch, plan, errors):
    if raw.get("name") not in (None, merged.name):
        errors.add("name", "a schema cannot be renamed")
    if raw.get("primary_key") not in (None, merged.primary_key):
        errors.add("primary_key", "the primary key cannot be changed")
    for key in ("label", "targeting", "version_field"):
        if key in raw and getattr(merged, key) != getattr(patch, key):
            setattr(merged, key, getattr(patch, key))
            plan.changed_settings.append(key)


def resolve_patch(name, document):
    """``(merged SchemaSpec, PatchPlan)`` for a patch of schema ``name``; raises ValidationFailed."""
    errors = Errors()
    universe = stored_specs()
    patch = parse_schema(document, "", errors, partial=True)
    errors.raise_if_any()
    merged = copy.deepcopy(universe[name])
    merged.path = ""
    plan = PatchPlan()
    _merge_settings(merged, document, patch, plan, errors)
    _merge_attributes(merged, patch.attributes, plan, errors)
    _merge_links(merged, patch.links, plan, errors)
    universe[name] = merged
    check([merged], universe, errors, patch=True)
    errors.raise_if_any()
    return merged, plan
