"""The reads of a run, in one place for the API, the admin and the ``alert`` activity.

- ``transitions(run) -> [{"from", "port", "to", "count", "state"}]``: every transition of the
  run's version with its count so far. ``state`` is ``pending`` (its source has not finished),
  ``carried`` (``count`` records took it) or ``nothing`` (the port carried nothing: skipped,
  failed, cancelled, or an untaken branch; ``count`` is null).
- ``activities(run) -> {key: ActivityRun}`` in definition order.
- ``counts(run) -> {(from, port): count or None}`` of the finished sources only.
- ``population(run, source, port) -> Population | None``: what left ``source`` by ``port``
  (None when the port carried nothing); ``NotFound`` for an activity or port the run lacks.
- ``rows(run, source, port, *, user, page=1, page_size=50, columns=None) -> RowsPage``: one
  page of that population: its key, added columns and chosen attribute paths (by default the
  schema's plain attributes, at most ``DEFAULT_COLUMNS``). Needs ``audiences.view_records``
  (personal data); a bad page or size, or a page past the last, is a ``ValidationFailed`` at
  ``page`` / ``page_size`` (``config.pages``, as every list of the API).
"""

from dataclasses import dataclass, field

from django.conf import settings

from audiences import populations
from audiences.models import Population
from audiences.population_ops import tables
from campaigns.models import FINAL_ACTIVITY
from config.access import require
from config.errors import NotFound
from config.pages import check_numbers, check_page

DEFAULT_COLUMNS = 20


@dataclass
class RowsPage:
    count: int  # records in the population
    page: int
    page_size: int
    columns: list = field(default_factory=list)  # "key", added columns, attribute paths
    rows: list = field(default_factory=list)  # dicts keyed by the columns

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.page_size))


def activities(run) -> dict:
    order = {a["id"]: i for i, a in enumerate(run.version.definition["activities"])}
    found = sorted(run.activity_runs.all(), key=lambda ar: order.get(ar.key, len(order)))
    return {ar.key: ar for ar in found}


def counts(run) -> dict:
    return {
        (ar.key, port): count
        for ar in run.activity_runs.all()
        if ar.status in FINAL_ACTIVITY
        for port, count in (ar.counts or {}).items()
    }


def transitions(run) -> list[dict]:
    finished = {ar.key: ar for ar in run.activity_runs.all() if ar.status in FINAL_ACTIVITY}
    found = []
    for t in run.version.definition["transitions"]:
        port = t.get("port", "out")
        source = finished.get(t["from"])
        count = (source.counts or {}).get(port) if source is not None else None
        if source is None:
            state = "pending"
        else:
            state = "nothing" if count is None else "carried"
        found.append(
            {"from": t["from"], "port": port, "to": t["to"], "count": count, "state": state}
        )
    return found


def population(run, source, port) -> Population | None:
    ar = run.activity_runs.filter(key=source).first()
    if ar is None:
        raise NotFound(f"run {run.pk} has no activity {source!r}")
    ports = ar.outputs or {}
    if ports and port not in ports:
        raise NotFound(f"activity {source!r} has no port {port!r}")
    population_id = ports.get(port)
    if population_id is None:
        return None
    found = Population.objects.select_related("schema").filter(pk=population_id).first()
    if found is None:
        raise NotFound(
            f"the rows of {source}.{port} were purged: a finished run keeps its populations "
            f"{settings.POPULATION_RETENTION_DAYS} days (POPULATION_RETENTION_DAYS); its counts stay"
        )
    return found


def default_columns(population) -> list[str]:
    """The schema's plain attributes (not the key, not link columns), in their order; none for a
    file's rows."""
    schema = population.schema
    if schema is None:
        return []
    plain = schema.attributes.exclude(name=schema.primary_key).exclude(
        name__in=schema.links.values_list("via", flat=True)
    )
    return list(plain.order_by("position", "id").values_list("name", flat=True)[:DEFAULT_COLUMNS])


def rows(run, source, port, *, user, page=1, page_size=50, columns=None) -> RowsPage:
    require(user, "audiences.view_records", "Reading the records of a transition")
    check_numbers(page, page_size)
    found = population(run, source, port)
    check_page(page, page_size, found.count if found is not None else 0)
    if found is None:
        return RowsPage(count=0, page=page, page_size=page_size)
    chosen = default_columns(found) if columns is None else list(columns)
    offset = (page - 1) * page_size
    if found.schema_id is None:
        chosen = []
        page_rows = tables.rows_of(found, offset=offset, limit=page_size)
    elif offset < found.count:
        page_rows = populations.rows(found, offset=offset, limit=page_size, columns=chosen)
    else:
        page_rows = []
    names = ["key", *(c["name"] for c in found.columns), *chosen]
    return RowsPage(
        count=found.count, page=page, page_size=page_size, columns=names, rows=page_rows
    )
