"""Staging a delivery (design 10, step 1): ONE ``INSERT ... SELECT`` from the population into the
message table, one row per recipient (unique per delivery), with its normalized address and the
first exclusion reason that applies (``channels.exclusions``), or queued in a numbered chunk.

The SELECT is built in layers over ``pop_<id>`` joined to the schema's table: the innermost gives
``key``, ``address``, ``dedupe`` and ``reason`` (NULL); each exclusion rule wraps the layer
before it, keeping the reason found so far or taking its own; the outermost numbers the included
recipients in key order into chunks of ``delivery.chunk_size``. PostgreSQL folds the plain layers
into one scan; only window rules (duplicates) and the chunk numbering sort. The counts by reason
come back from the same statement (``RETURNING``), so nothing is scanned twice.

``stage(delivery, population) -> {"targeted", "staged", "excluded": {reason: n}}`` runs in the
caller's transaction and writes the chunk rows too.
"""

from django.db import connection

from audiences import dynamic
from audiences.models import Population
from channels import addresses, exclusions
from channels.models import Chunk


def _base(delivery, population, model):
    table = model._meta.db_table
    pk = model._meta.pk.column
    column = f'r."{delivery.address_field}"'
    address = addresses.normalized_sql(delivery.channel, column)
    dedupe = addresses.dedupe_sql(delivery.channel, "address")
    inner = (
        f"SELECT p.key AS key, {address} AS address, NULL::text AS reason "
        f'FROM {Population.table_of(population.pk)} p LEFT JOIN "{table}" r ON r."{pk}" = p.key'
    )
    return f"SELECT key, address, {dedupe} AS dedupe, reason FROM ({inner}) s0"


def select_sql(delivery, population) -> tuple[str, list]:
    """The layered SELECT of ``(key, address, reason, chunk)`` (module docstring)."""
    model = dynamic.get_model(delivery.schema.name)
    from django.db import connection as conn

    staging = exclusions.Staging(
        delivery=delivery,
        channel=delivery.channel,
        category=delivery.category,
        key_type=model._meta.pk.db_type(conn),
    )
    sql, params = _base(delivery, population, model), []
    for n, rule in enumerate(exclusions.rules(), start=1):
        predicate, extra = rule.predicate(staging)
        sql = (
            f"SELECT key, address, dedupe, COALESCE(reason, CASE WHEN {predicate} "
            f"THEN %s END) AS reason FROM ({sql}) s{n}"
        )
        params = [*extra, rule.reason, *params]  # the new layer's text comes first
    chunked = (
        "SELECT key, address, reason, CASE WHEN reason IS NULL THEN "
        "(row_number() OVER (PARTITION BY reason IS NULL ORDER BY key) - 1) / %s END AS chunk "
        f"FROM ({sql}) staged"
    )
    return chunked, [delivery.chunk_size, *params]


def stage(delivery, population) -> dict:
    select, params = select_sql(delivery, population)
    insert = (
        "WITH written AS (INSERT INTO channels_message "
        "(delivery_id, key, address, status, reason, chunk) "
        "SELECT %s, key::text, COALESCE(address, ''), "
        "CASE WHEN reason IS NULL THEN 'queued' ELSE 'excluded' END, COALESCE(reason, ''), chunk "
        f"FROM ({select}) rows RETURNING reason) "
        "SELECT reason, count(*) FROM written GROUP BY reason"
    )
    with connection.cursor() as cursor:
        cursor.execute(insert, [delivery.pk, *params])
        counts = dict(cursor.fetchall())
    staged = counts.pop("", 0)
    if not delivery.test and staged:
        chunks = -(-staged // delivery.chunk_size)
        Chunk.objects.bulk_create(Chunk(delivery=delivery, number=n) for n in range(chunks))
    return {"targeted": staged + sum(counts.values()), "staged": staged, "excluded": counts}
