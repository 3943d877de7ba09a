"""Parse and validate schema definitions (design 5.1) before anything is written.

Contract:
- ``resolve_create(document)`` takes one schema object, or ``{"schemas": [...]}`` resolved together
  (links may point both ways inside the list, or at schemas that already exist), and returns the
  list of ``SchemaSpec`` to create.
- ``audiences.schema_patches.resolve_patch(name, document)`` takes a partial schema (``label``, ``targeting``,
  ``version_field``, ``attributes``, ``links``) and returns ``(merged_spec, plan)``: attributes and
  links are added, an attribute given again with another type (or flags) is changed; nothing is
  removed by a patch.
- Both raise ``config.errors.ValidationFailed`` with every problem found, as
  ``[{"path": "schemas[1].links[0].via", "message": "..."}]`` (no ``schemas[i]`` prefix when one
  schema was posted alone, paths relative to the patch document for a patch).

Checked: names (design 5.0), unknown fields and types, decimal precision and scale, the primary key,
links (target exists, ``via`` exists and has the target's primary key type, is not the primary key
and backs one link only), one namespace per schema for attributes, links and reverse links arriving
from any schema, ``version_field`` (datetime, date or integer), ``targeting`` (channel to an existing
string attribute).
"""

from dataclasses import dataclass, field

from audiences.identifiers import identifier_error
from audiences.models import AttributeType, Schema
from config.errors import ValidationFailed
from config.inputs import length_error

TYPES = tuple(AttributeType.values)
VERSION_TYPES = ("datetime", "date", "integer")
ADDRESS_TYPES = ("string", "text")
CHANNELS = ("email", "sms", "push")
SCHEMA_KEYS = {"name", "label", "primary_key", "version_field", "targeting", "attributes", "links"}
READ_ONLY_KEYS = {"table", "estimated_records"}  # given by GET, ignored so documents round-trip
ATTRIBUTE_KEYS = {"name", "type", "required", "indexed", "enum", "precision", "scale"}
LINK_KEYS = {"name", "to", "via", "reverse"}
CHANGEABLE = ("type", "required", "indexed", "enum", "precision", "scale")


@dataclass
class AttributeSpec:
    name: str
    type: str
    required: bool = False
    indexed: bool = False
    enum: list | None = None
    precision: int | None = None
    scale: int | None = None
    path: str | None = None  # where it was given; None for what is already stored


@dataclass
class LinkSpec:
    name: str
    to: str
    via: str
    reverse: str = ""
    path: str | None = None


@dataclass
class SchemaSpec:
    name: str
    label: str = ""
    primary_key: str = ""
    version_field: str = ""
    targeting: dict = field(default_factory=dict)
    attributes: list = field(default_factory=list)
    links: list = field(default_factory=list)
    path: str | None = None

    def attribute(self, name):
        return next((a for a in self.attributes if a.name == name), None)


def join(prefix, key):
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


class Errors(list):
    def add(self, path, message):
        self.append({"path": path, "message": message})

    def raise_if_any(self):
        if self:
            raise ValidationFailed(list(self))


# ---------------------------------------------------------------- parsing (shape of one object)


def _unknown_keys(raw, allowed, path, errors):
    for key in sorted(set(raw) - allowed):
        errors.add(join(path, key), f"unknown field (allowed: {', '.join(sorted(allowed))})")


def _name(raw, key, path, errors, required=True):
    value = raw.get(key)
    if value is None or value == "":
        if required:
            errors.add(join(path, key), "is required")
        return ""
    problem = identifier_error(value)
    if problem:
        errors.add(join(path, key), problem)
        return ""
    return value


def _flag(raw, key, path, errors):
    value = raw.get(key, False)
    if not isinstance(value, bool):
        errors.add(join(path, key), "must be true or false")
        return False
    return value


def _decimal_size(raw, kind, path, errors):
    precision, scale = raw.get("precision"), raw.get("scale")
    if kind != "decimal":
        for key in ("precision", "scale"):
            if raw.get(key) is not None:
                errors.add(join(path, key), "only decimal attributes have a precision and scale")
        return None, None
    if precision is not None and (
        not isinstance(precision, int) or isinstance(precision, bool) or not 1 <= precision <= 1000
    ):
        errors.add(join(path, "precision"), "must be an integer from 1 to 1000")
        return None, None
    if scale is not None and (not isinstance(scale, int) or isinstance(scale, bool) or scale < 0):
        errors.add(join(path, "scale"), "must be an integer of at least 0")
        return None, None
    if (scale if scale is not None else 4) > (precision or 18):
        errors.add(join(path, "scale"), "must not be larger than the precision")
    return precision, scale


def _enum(raw, path, errors):
    values = raw.get("enum")
    if values is None:
        return None
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values)
    ):
        errors.add(join(path, "enum"), "must be a non-empty list of strings or numbers")
        return None
    return values


def parse_attribute(raw, path, errors):
    if not isinstance(raw, dict):
        errors.add(path, "must be an object")
        return None
    _unknown_keys(raw, ATTRIBUTE_KEYS, path, errors)
    kind = raw.get("type")
    if kind not in TYPES:
        errors.add(join(path, "type"), f"unknown type {kind!r} (one of: {', '.join(TYPES)})")
    precision, scale = _decimal_size(raw, kind, path, errors)
    return AttributeSpec(
        name=_name(raw, "name", path, errors),
        type=kind if kind in TYPES else "",
        required=_flag(raw, "required", path, errors),
        indexed=_flag(raw, "indexed", path, errors),
        enum=_enum(raw, path, errors),
        precision=precision,
        scale=scale,
        path=path,
    )


def parse_link(raw, path, errors):
    if not isinstance(raw, dict):
        errors.add(path, "must be an object")
        return None
    _unknown_keys(raw, LINK_KEYS, path, errors)
    return LinkSpec(
        name=_name(raw, "name", path, errors),
        to=_name(raw, "to", path, errors),
        via=_name(raw, "via", path, errors),
        reverse=_name(raw, "reverse", path, errors, required=False),
        path=path,
    )


def _items(raw, key, path, errors, parse, required=False):
    values = raw.get(key)
    if values is None:
        if required:
            errors.add(join(path, key), "is required")
        return []
    if not isinstance(values, list) or (required and not values):
        errors.add(join(path, key), "must be a non-empty list" if required else "must be a list")
        return []
    parsed = [parse(item, join(join(path, key), i), errors) for i, item in enumerate(values)]
    return [item for item in parsed if item is not None]


def _text(raw, key, path, errors):
    """A free text field of ``Schema`` (``label``): a string that fits its column."""
    value = raw.get(key, "")
    if not isinstance(value, str):
        errors.add(join(path, key), "must be a string")
        return ""
    problem = length_error(Schema, key, value)
    if problem:
        errors.add(join(path, key), problem)
        return ""
    return value


def _targeting(raw, path, errors):
    value = raw.get("targeting") or {}
    if not isinstance(value, dict):
        errors.add(join(path, "targeting"), 'must be an object like {"email": "email"}')
        return {}
    for channel in value:
        if channel not in CHANNELS:
            errors.add(
                join(join(path, "targeting"), channel), f"unknown channel (one of: {CHANNELS})"
            )
    return value


def parse_schema(raw, path, errors, partial=False):
    """One schema object; ``partial`` for a patch (only the given fields)."""
    if not isinstance(raw, dict):
        errors.add(path, "must be an object")
        return None
    _unknown_keys(
        {k: v for k, v in raw.items() if k not in READ_ONLY_KEYS}, SCHEMA_KEYS, path, errors
    )
    return SchemaSpec(
        name=_name(raw, "name", path, errors, required=not partial),
        label=_text(raw, "label", path, errors),
        primary_key=_name(raw, "primary_key", path, errors, required=not partial),
        version_field=_name(raw, "version_field", path, errors, required=False),
        targeting=_targeting(raw, path, errors),
        attributes=_items(raw, "attributes", path, errors, parse_attribute, not partial),
        links=_items(raw, "links", path, errors, parse_link),
        path=path,
    )


# ---------------------------------------------------------------- checks across schemas


def _check_id(spec, errors):
    """Django reserves a field named ``id`` for the primary key."""
    for item in spec.attributes + spec.links:
        if item.name == "id" and item.path and item.name != spec.primary_key:
            errors.add(join(item.path, "name"), "'id' can only name the primary key")


def _check_fields(spec, errors):
    path = spec.path or ""
    _check_id(spec, errors)
    if spec.primary_key and spec.attribute(spec.primary_key) is None:
        errors.add(join(path, "primary_key"), f"no attribute named '{spec.primary_key}'")
    if spec.version_field:
        attribute = spec.attribute(spec.version_field)
        if attribute is None:
            errors.add(join(path, "version_field"), f"no attribute named '{spec.version_field}'")
        elif attribute.type not in VERSION_TYPES:
            errors.add(join(path, "version_field"), "must be a datetime, date or integer attribute")
    for channel, name in spec.targeting.items():
        attribute = spec.attribute(name) if isinstance(name, str) else None
        if attribute is None:
            errors.add(join(join(path, "targeting"), channel), f"no attribute named {name!r}")
        elif attribute.type not in ADDRESS_TYPES:
            errors.add(join(join(path, "targeting"), channel), "must be a string attribute")


def _type_mismatch(via, target):
    pk = target.attribute(target.primary_key) if target else None
    if pk is None or (via.type, via.precision, via.scale) == (pk.type, pk.precision, pk.scale):
        return None
    return f"'{via.name}' is {via.type} but the primary key of '{target.name}' is {pk.type}"


def _check_link(spec, link, universe, used_vias, errors):
    via, target = spec.attribute(link.via), universe.get(link.to)
    if link.path is None:  # a stored link: only its via's type may have changed (in a patch)
        used_vias[link.via] = link.name
        problem = _type_mismatch(via, target) if via is not None and via.path else None
        if problem:
            errors.add(join(via.path, "type"), problem)
        return
    if target is None:
        errors.add(join(link.path, "to"), f"no schema named '{link.to}'")
    if via is None:
        errors.add(join(link.path, "via"), f"no attribute named '{link.via}' in '{spec.name}'")
        return
    if link.via == spec.primary_key:
        errors.add(join(link.path, "via"), "the primary key cannot hold a link")
    if link.via in used_vias:
        errors.add(
            join(link.path, "via"), f"'{link.via}' already holds link '{used_vias[link.via]}'"
        )
    used_vias[link.via] = link.name
    problem = _type_mismatch(via, target)
    if problem:
        errors.add(join(link.path, "via"), problem)


def _namespace(spec, universe):
    """(name, path) of everything named in ``spec``: attributes, links, reverse links coming in."""
    entries = [(a.name, join(a.path, "name") if a.path else None) for a in spec.attributes]
    entries += [(link.name, join(link.path, "name") if link.path else None) for link in spec.links]
    for other in universe.values():
        for link in other.links:
            if link.to == spec.name and link.reverse:
                entries.append((link.reverse, join(link.path, "reverse") if link.path else None))
    return entries


def _check_namespace(spec, universe, errors):
    grouped = {}
    for name, path in _namespace(spec, universe):
        grouped.setdefault(name, []).append(path)
    for name, paths in grouped.items():
        # Report the given ones; the first given one is fine when the others are given too.
        given = [path for path in paths if path is not None]
        for path in given[1:] if len(given) == len(paths) else given:
            if len(paths) > 1:
                errors.add(path, f"'{name}' is already used in schema '{spec.name}'")
    for link in spec.links:
        # A link's ORM attribute is <link>_id: it must not collide with another attribute.
        clash = spec.attribute(f"{link.name}_id")
        if clash is not None and clash.name != link.via and link.path:
            errors.add(join(link.path, "name"), f"'{link.name}_id' is another attribute's name")


def _check_incoming(spec, universe, errors):
    """Links from other schemas need this schema's primary key type to stay what it was."""
    pk = spec.attribute(spec.primary_key)
    if pk is None or pk.path is None:
        return
    for other in universe.values():
        for link in other.links:
            via = other.attribute(link.via) if link.to == spec.name else None
            if via is not None and (via.type, via.precision, via.scale) != (
                pk.type,
                pk.precision,
                pk.scale,
            ):
                errors.add(
                    join(pk.path, "type"),
                    f"link {other.name}.{link.name} needs the primary key to stay {via.type}",
                )


def check(specs, universe, errors, patch=False):
    """Check ``specs`` (new or changed) against ``universe`` ({name: spec}, including them)."""
    touched = {spec.name for spec in specs}
    for spec in specs:
        _check_fields(spec, errors)
        if patch:
            _check_incoming(spec, universe, errors)
        used_vias = {}
        for link in spec.links:
            if link.to and link.via:
                _check_link(spec, link, universe, used_vias, errors)
            if link.path and link.to in universe:
                touched.add(link.to)
    for name in sorted(touched):
        if name in universe:
            _check_namespace(universe[name], universe, errors)


def stored_specs():
    """{name: SchemaSpec} of every stored schema (paths None)."""
    out = {}
    for schema in Schema.objects.prefetch_related("attributes", "links__to"):
        out[schema.name] = SchemaSpec(
            name=schema.name,
            label=schema.label,
            primary_key=schema.primary_key,
            version_field=schema.version_field,
            targeting=dict(schema.targeting or {}),
            attributes=[
                AttributeSpec(
                    **{key: getattr(a, key) for key in ("name",) + CHANGEABLE},
                )
                for a in schema.attributes.all()
            ],
            links=[
                LinkSpec(name=link.name, to=link.to.name, via=link.via, reverse=link.reverse)
                for link in schema.links.all()
            ],
        )
    return out


# ---------------------------------------------------------------- entry points


def _parse_document(document, errors):
    if isinstance(document, dict) and "schemas" in document:
        _unknown_keys(document, {"schemas"}, "", errors)
        items = document["schemas"]
        if not isinstance(items, list) or not items:
            errors.add("schemas", "must be a non-empty list of schemas")
            return []
        return [parse_schema(raw, f"schemas[{i}]", errors) for i, raw in enumerate(items)]
    if isinstance(document, dict):
        return [parse_schema(document, "", errors)]
    errors.add("", 'must be a schema object or {"schemas": [...]}')
    return []


def resolve_create(document):
    """The schemas to create from ``document``; raises ValidationFailed."""
    errors = Errors()
    specs = [spec for spec in _parse_document(document, errors) if spec is not None]
    universe = stored_specs()
    for name in {spec.name for spec in specs} & set(universe):
        for spec in specs:
            if spec.name == name:
                errors.add(join(spec.path, "name"), f"a schema named '{name}' already exists")
    given = {}
    for spec in specs:
        if spec.name in given:
            errors.add(join(spec.path, "name"), f"'{spec.name}' is defined twice in this list")
        given.setdefault(spec.name, spec)
    universe.update(given)
    check([spec for spec in specs if spec.name], universe, errors)
    errors.raise_if_any()
    return specs
