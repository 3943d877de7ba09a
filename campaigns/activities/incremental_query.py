"""``incremental_query``: the records of ``schema`` matching ``where`` that are new since the last
live run of this activity, by ``date_field`` (a date or datetime attribute).

The high-water mark is kept per campaign and activity key in PostgreSQL: it is the ``mark`` in the
``state`` of the latest succeeded live activity run of this key in this campaign, written in the
same transaction that records the step as succeeded. So it moves exactly when a live step
succeeds, survives new versions of the campaign, and starts afresh for a duplicate.

- First run (no mark yet): every matching record, records with no date included; with ``since``
  (ISO date or date-time) only those with ``date_field >= since``.
- Later runs: matching records with ``date_field > mark``.
- The new mark is the highest ``date_field`` among the records taken (unchanged when none).
- Test runs compute from the current mark and record ``would_move_to`` but never move it
  (design 7). Concurrent live runs of one campaign take this step one at a time (a transaction
  advisory lock on campaign and key), so two runs never take the same records.

Records written later with a date at or below the mark are not taken: the mark follows the data's
dates, not the clock.
"""

import datetime

from django.db import connection
from django.db.models import Max
from django.utils import timezone

from audiences import dynamic, populations
from audiences.models import Attribute, AttributeType, Schema
from audiences.shapes import Shape
from campaigns.activities import options as o
from campaigns.activities.base import ActivityKind, error

DATE_TYPES = (AttributeType.DATE, AttributeType.DATETIME)


def parse_moment(text, kind):
    """``text`` (ISO date or date-time) as a value comparable with an attribute of ``kind``."""
    value = datetime.datetime.fromisoformat(text)
    if kind == AttributeType.DATE:
        return value.date()
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _date_field_errors(options, check):
    name, field = options.get("schema"), options.get("date_field")
    schema = Schema.objects.filter(name=name).first() if isinstance(name, str) else None
    if schema is None or not isinstance(field, str):
        return []
    attribute = Attribute.objects.filter(schema=schema, name=field).first()
    if attribute is None:
        return [error(check.at("date_field"), f"{name} has no attribute {field!r}")]
    if attribute.type not in DATE_TYPES:
        message = f"{field} is {attribute.type}, not a date or datetime"
        return [error(check.at("date_field"), message)]
    return []


def current_mark(*, campaign_id, key):
    """The high-water mark (ISO text) of activity ``key`` in the campaign, or None."""
    from campaigns.models import ActivityRun, ActivityRunStatus

    latest = (
        ActivityRun.objects.filter(
            run__campaign_id=campaign_id,
            run__test=False,
            key=key,
            type=IncrementalQuery.type,
            status=ActivityRunStatus.SUCCEEDED,
            state__has_key="mark",
        )
        .order_by("-finished_at", "-id")
        .values_list("state", flat=True)
        .first()
    )
    return latest["mark"] if latest else None


def _lock(campaign_id, key):
    """Serialize this step across live runs of one campaign until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext('incremental_query'), hashtext(%s))",
            [f"{campaign_id}:{key}"],
        )


class IncrementalQuery(ActivityKind):
    type = "incremental_query"
    label = "Incremental query"
    group = "targeting"
    help_text = (
        "Selects the records of a schema matching a rule that are newer (by a date attribute) "
        "than the last live run; the first run takes everything, or everything since a date."
    )
    inputs = "none"
    options = o.options(
        schema=o.string(description="The schema to select records from.", widget="schema"),
        where=o.rule("The rule the records must match."),
        date_field=o.string(
            description="The date or datetime attribute that tells which records are new."
        ),
        since=o.string(
            description="On the first run, take only records since this date (ISO 8601).",
            nullable=True,
        ),
    )

    def validate(self, options, check):
        errors = _date_field_errors(options, check)
        since = options.get("since")
        if since:
            try:
                datetime.datetime.fromisoformat(since)
            except ValueError:
                errors.append(error(check.at("since"), "must be an ISO 8601 date or date-time"))
        return errors

    def outputs(self, options, inbound):
        return {"out": Shape(options["schema"]) if options.get("schema") else None}

    def run(self, ctx):
        from audiences.compiler import queryset_for

        options = ctx.options
        schema = Schema.objects.get(name=options["schema"])
        kind = schema.attributes.get(name=options["date_field"]).type
        model = dynamic.get_model(schema.name)
        attname = dynamic.attname_of(model, options["date_field"])
        if not ctx.test:
            _lock(ctx.run.campaign_id, ctx.key)
        mark = current_mark(campaign_id=ctx.run.campaign_id, key=ctx.key)
        queryset = queryset_for(
            schema=schema, where=options["where"], variables=ctx.variables, now=ctx.now
        )
        if mark is not None:
            queryset = queryset.filter(**{f"{attname}__gt": parse_moment(mark, kind)})
        elif options.get("since"):
            queryset = queryset.filter(**{f"{attname}__gte": parse_moment(options["since"], kind)})
        population = populations.materialize(
            queryset=queryset, schema=schema, label=f"run {ctx.run.pk} {ctx.key}"
        )
        newest = populations.members(population).aggregate(newest=Max(attname))["newest"]
        moved_to = newest.isoformat() if newest is not None else mark
        ctx.state["mark_before"] = mark
        ctx.state["would_move_to" if ctx.test else "mark"] = moved_to
        return {"out": population}
