"""Saved audiences (design 5.3 and 6): rule audiences, re-evaluated each time they are used, and
snapshots, fixed member keys kept in a population that is never purged.

All functions are keyword-only, run in a transaction, write an audit entry and raise
``ValidationFailed`` (400, with JSON paths) or ``Conflict`` (409):

- ``create_rule_audience(*, name, schema, where, description="", user=None) -> SavedAudience``
- ``update_rule_audience(*, audience, where=None, description=None, user=None)``
- ``snapshot_from_population(*, name, population, user=None, description="")``: copies the keys of
  ``population`` (any, e.g. a run's transition) into a kept population: campaigns call this.
- ``snapshot_from_rule(*, name, schema, where, user=None, description="", now=None)``
- ``save_snapshot(*, name, population, user=None) -> (SavedAudience, created)``: the snapshot
  audience ``name`` holds exactly ``population``'s keys and columns, replacing its members (its
  name is kept: no " (copy)"); created when missing. A rule audience, or a snapshot of another
  schema, of that name is a ``Conflict``. One audit entry with the counts (``save_audience``).
- ``delete_audience(*, audience, user=None)``: refused (409) while another audience's rule uses it.
- ``refresh_count(*, audience, now=None)``: recount (rule) and store ``count``, ``counted_at``.

Names are identifiers (design 5.0), unique, and none of ``count``, ``preview``, ``distribution``.
A rule audience's rule takes no ``var`` and may not reach itself through ``in_audience``.
"""

from django.db import transaction
from django.utils import timezone

from audiences import populations, rules
from audiences.compiler import queryset_for
from audiences.identifiers import identifier_error
from audiences.models import AudienceKind, SavedAudience, Schema
from config.audit import log_change
from config.errors import Conflict, ValidationFailed

RESERVED_NAMES = {"count", "preview", "distribution"}


def _check_name(name):
    error = identifier_error(name)
    if error is None and name in RESERVED_NAMES:
        error = f"'{name}' is reserved"
    if error is None and SavedAudience.objects.filter(name=name).exists():
        error = f"an audience named '{name}' already exists"
    if error:
        raise ValidationFailed([{"path": "name", "message": error}])


def _description(value):
    if value is not None and not isinstance(value, str):
        raise ValidationFailed([{"path": "description", "message": "must be a string"}])
    return value


def _schema(schema):
    if isinstance(schema, Schema):
        return schema
    found = Schema.objects.filter(name=schema).first() if isinstance(schema, str) else None
    if found is None:
        raise ValidationFailed([{"path": "schema", "message": f"no schema named {schema!r}"}])
    return found


def refresh_count(*, audience, now=None):
    """Store the audience's current count and when it was computed."""
    if audience.kind == AudienceKind.RULE:
        audience.count = queryset_for(schema=audience.schema, where=audience.where, now=now).count()
    else:
        audience.count = audience.population.count if audience.population else 0
    audience.counted_at = timezone.now()
    audience.save(update_fields=["count", "counted_at", "updated_at"])
    return audience


@transaction.atomic
def create_rule_audience(*, name, schema, where, description="", user=None):
    _check_name(name)
    _description(description)
    schema = _schema(schema)
    rules.parse(schema=schema, where=where, audience=name)
    audience = SavedAudience.objects.create(
        name=name,
        schema=schema,
        kind=AudienceKind.RULE,
        where=where,
        description=description or "",
        created_by=_user(user),
    )
    refresh_count(audience=audience)
    log_change(
        user=user,
        obj=audience,
        action="add",
        message="Created a rule audience",
        details={"where": where},
    )
    return audience


@transaction.atomic
def update_rule_audience(*, audience, where=None, description=None, user=None):
    if audience.kind != AudienceKind.RULE:
        raise Conflict("A snapshot's members are fixed; only rule audiences take a new rule.")
    _description(description)
    if where is not None:
        rules.parse(schema=audience.schema, where=where, audience=audience.name)
        audience.where = where
    if description is not None:
        audience.description = description
    audience.save()
    refresh_count(audience=audience)
    log_change(
        user=user,
        obj=audience,
        action="change",
        message="Changed the rule",
        details={"where": audience.where},
    )
    return audience


def _keep(population, *, name, user, description):
    population.keep = True
    population.save(update_fields=["keep"])
    audience = SavedAudience.objects.create(
        name=name,
        schema=population.schema,
        kind=AudienceKind.SNAPSHOT,
        where={},
        population=population,
        count=population.count,
        counted_at=timezone.now(),
        description=description or "",
        created_by=_user(user),
    )
    log_change(
        user=user,
        obj=audience,
        action="add",
        message="Created a snapshot",
        details={"count": population.count},
    )
    return audience


@transaction.atomic
def snapshot_from_population(*, name, population, user=None, description=""):
    """A snapshot audience holding a copy of ``population``'s keys (the original may be purged)."""
    _check_name(name)
    copy = populations.copy_keys(population=population, label=f"snapshot {name}")
    return _keep(copy, name=name, user=user, description=description)


@transaction.atomic
def snapshot_from_rule(*, name, schema, where, user=None, description="", now=None):
    _check_name(name)
    _description(description)
    schema = _schema(schema)
    population = populations.from_rule(
        schema=schema, where=where, now=now, label=f"snapshot {name}"
    )
    return _keep(population, name=name, user=user, description=description)


def _mentions(where, name):
    if isinstance(where, dict):
        if where.get("in_audience") == name:
            return True
        return any(_mentions(value, name) for value in where.values())
    if isinstance(where, list):
        return any(_mentions(item, name) for item in where)
    return False


@transaction.atomic
def delete_audience(*, audience, user=None):
    users = [
        other.name
        for other in SavedAudience.objects.filter(kind=AudienceKind.RULE).exclude(pk=audience.pk)
        if _mentions(other.where, audience.name)
    ]
    if users:
        raise Conflict(f"Audience '{audience.name}' is used by: {', '.join(sorted(users))}.")
    log_change(user=user, obj=audience, action="delete", message="Deleted the audience")
    population = audience.population
    audience.delete()
    if population is not None:
        populations.drop(population)


def _user(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


@transaction.atomic
def save_snapshot(*, name, population, user=None):
    existing = SavedAudience.objects.select_for_update().filter(name=name).first()
    if existing is None:
        _check_name(name)
    elif existing.kind != AudienceKind.SNAPSHOT:
        raise Conflict(f"Audience '{name}' is a rule audience: its members cannot be replaced.")
    elif existing.schema_id != population.schema_id:
        raise Conflict(f"Audience '{name}' holds {existing.schema.name} records.")
    copy = populations.with_columns(population=population, columns={}, label=f"snapshot {name}")
    if existing is None:
        return _keep(copy, name=name, user=user, description=""), True
    copy.keep = True
    copy.save(update_fields=["keep"])
    old, before = existing.population, existing.count
    existing.population, existing.count, existing.counted_at = copy, copy.count, timezone.now()
    existing.save(update_fields=["population", "count", "counted_at", "updated_at"])
    if old is not None:
        populations.drop(old)
    log_change(
        user=user,
        obj=existing,
        action="change",
        message="Replaced the snapshot's members",
        details={"count": copy.count, "before": before},
    )
    return existing, False
