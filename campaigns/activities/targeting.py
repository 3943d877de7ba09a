"""Helpers shared by the targeting kinds (no kind here): the label and seed of a step's sets, the
check that a schema's population flows in, column references against the inbound shape, and
"carries nothing" for ``skip_empty``."""

from django.conf import settings

from audiences.population_ops import dedup, paths
from audiences.shapes import Shape
from campaigns.activities import options as o
from campaigns.activities.base import error

# A key of deduplication and combine: a field or column, optionally compared after a transform.
KEY_FIELD = {
    "oneOf": [
        o.string(description="A field or column.", widget="column"),
        o.obj(
            description="A field with a transform.",
            required=("field",),
            field=o.string(description="A field or column.", widget="column"),
            transform=o.string(
                None, "Compare after this transform.", enum=dedup.TRANSFORMS, nullable=True
            ),
        ),
    ],
    "description": 'A field ("email") or {"field": "email", "transform": "lower"}.',
}


def label(ctx, suffix: str = "") -> str:
    return f"run {ctx.run.pk} {ctx.key}" + (f" {suffix}" if suffix else "")


def seed(ctx) -> str:
    """The seed of random choices: the run and the activity, so a step replays identically."""
    return f"{ctx.run.pk}:{ctx.key}"


def schema_input(check) -> tuple[Shape | None, list[dict]]:
    """(the inbound shape, errors): a loaded file's rows must be reconciled with a schema first."""
    shape = check.input
    if shape is not None and shape.is_file:
        message = "takes a population of a schema: reconcile the file's rows with one first"
        return None, [error(check.path, message)]
    return shape, []


def column_errors(shape: Shape | None, ref, path: str) -> list[dict]:
    """Errors of a column reference (``target.ALIAS``, an added column, an attribute path) on
    ``shape``; none when the shape is unknown (reported where it is decided)."""
    if shape is None:
        return []
    return paths.reference_errors(shape, ref, path)


def column_type(shape: Shape | None, ref, path: str) -> str | None:
    if shape is None or column_errors(shape, ref, path):
        return None
    return paths.reference_type(shape, ref, path)


def time_zone(ctx) -> str:
    """The campaign's time zone (its schedule's), else the ``TIME_ZONE`` setting."""
    version = getattr(ctx.run, "version", None)
    schedule = version.definition.get("schedule", {}) if version is not None else {}
    return schedule.get("timezone") or settings.TIME_ZONE


def upstream_population(ctx, key, port: str = "out"):
    """The population that left activity ``key`` of this run by ``port`` (an activity upstream,
    so already final), or None (no key, or the port carried nothing)."""
    if not key:
        return None
    from audiences.models import Population
    from campaigns.models import ActivityRun

    found = ActivityRun.objects.filter(run_id=ctx.run.pk, key=key).first()
    population_id = (found.outputs or {}).get(port) if found else None
    return Population.objects.filter(pk=population_id).first() if population_id else None
