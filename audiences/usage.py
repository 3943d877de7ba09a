"""Who uses a schema or an attribute? Removal is refused while anything does (design 5.1).

Later parts of the product (saved audiences, campaigns) ``register`` a function
``fn(schema_name, attribute_name=None) -> list[str]`` returning human sentences that name each
user ("saved audience 'vip'", "campaign 12 'Spring' (activity filter1)"). ``attribute_name`` may
also be a link or reverse link name (they share the schema's namespace): removing a link asks for
its name and for its reverse on the other schema. ``users_of`` asks every
registered function plus the built-in checks: links from other schemas, the schema's own links whose
``via`` is the attribute, its ``version_field`` and ``targeting``.
"""

from audiences.models import Link, Population, SavedAudience, Schema

_registry = []


def register(fn):
    """Add a usage function (usable as a decorator); registering twice has no effect."""
    if fn not in _registry:
        _registry.append(fn)
    return fn


def unregister(fn):
    if fn in _registry:
        _registry.remove(fn)


def _built_in(schema_name, attribute_name):
    found = []
    incoming = Link.objects.filter(to__name=schema_name).exclude(schema__name=schema_name)
    if attribute_name is None:
        found += [
            f"link {link.schema.name}.{link.name}" for link in incoming.select_related("schema")
        ]
        audiences = SavedAudience.objects.filter(schema__name=schema_name)
        found += [f"saved audience '{name}'" for name in audiences.values_list("name", flat=True)]
        populations = Population.objects.filter(schema__name=schema_name).count()
        if populations:
            found.append(f"{populations} working population(s), until they are purged")
        return found
    schema = Schema.objects.filter(name=schema_name).first()
    if schema is None:
        return found
    if attribute_name == schema.primary_key:
        found.append(f"the primary key of schema '{schema_name}'")
    found += [f"link {schema_name}.{link.name}" for link in schema.links.filter(via=attribute_name)]
    if attribute_name == schema.version_field:
        found.append(f"the version_field of schema '{schema_name}'")
    found += [
        f"the {channel} targeting address of schema '{schema_name}'"
        for channel, name in (schema.targeting or {}).items()
        if name == attribute_name
    ]
    return found


def users_of(schema_name, attribute_name=None):
    """Human strings naming everything that uses the schema (or one of its attributes)."""
    found = _built_in(schema_name, attribute_name)
    for fn in list(_registry):
        found += list(fn(schema_name, attribute_name) or [])
    return found
