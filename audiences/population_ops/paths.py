"""Column references of a population's rows, as SQL (design 5.3 paths, design 9 shapes).

A *reference* names a value of each row of a population:
- ``target.ALIAS`` or a bare ``ALIAS``: one of its added columns (a bare name means the added
  column when there is one of that name, else an attribute);
- an attribute path of its schema: ``email``, ``store.city`` (many-to-one links); the primary key
  attribute is the population's key.
A file's rows (no schema) have only columns.

- ``reference_type(shape, ref, path) -> type`` the attribute type of ``ref`` on a ``Shape``, or
  ``ValidationFailed`` at ``path`` ("the population has no column 'x'", "unknown field ...").
- ``Source(population, alias="p")``: ``source.expr(ref, path)`` gives ``(sql, type)`` and records
  the joins it needs; ``source.from_sql()`` is then ``pop_<id> p JOIN data_<schema> s ON ...
  LEFT JOIN ...``. Left joins keep every row: a dangling link reads as null.
- ``order_sql(source, order_by, seed, path)``: ``"field"``, ``"-field"`` (NULLS LAST, then the
  key) or ``"random"``: ``md5(seed || key)``, a seeded order independent of the scan order.
"""

from audiences import dynamic, rules
from audiences.population_ops.tables import q
from config.errors import ValidationFailed

TEXT_TYPES = ("string", "text")


def _fail(path, message):
    raise ValidationFailed([{"path": path, "message": message}])


def _column_name(ref, columns):
    """The added column ``ref`` names, or None (an attribute path)."""
    if not isinstance(ref, str) or not ref:
        return None
    if ref.startswith("target.") and ref.count(".") == 1:
        return ref[len("target.") :]
    return ref if ref in columns else None


def reference_type(shape, ref, path: str) -> str:
    """The attribute type of reference ``ref`` on ``shape`` (raises ``ValidationFailed``)."""
    if not isinstance(ref, str) or not ref:
        _fail(path, 'a column or field such as "email", "store.city" or "target.total"')
    name = _column_name(ref, shape.columns)
    if name is not None:
        if name not in shape.columns:
            _fail(path, f"the population has no column {name!r}")
        return shape.columns[name]
    if shape.is_file:
        known = ", ".join(shape.columns) or "none"
        _fail(path, f"the file has no column {ref!r} (its columns: {known})")
    _lookup, kind = rules.field_lookup(schema=shape.schema, field=ref, path=path)
    return kind


def reference_errors(shape, ref, path: str) -> list[dict]:
    try:
        reference_type(shape, ref, path)
    except ValidationFailed as exc:
        return exc.errors
    return []


def table_of(schema_name: str) -> tuple[str, str]:
    """(table, primary key column) of a schema's records, asked of its model."""
    meta = dynamic.get_model(schema_name)._meta
    return meta.db_table, meta.pk.column


class Source:
    """The rows of ``population`` (alias ``alias``) with the joins its references need."""

    def __init__(self, population, alias: str = "p"):
        self.population = population
        self.alias = alias
        self.schema = population.schema.name if population.schema_id else None
        self.columns = {c["name"]: c for c in population.columns}
        self._joins = {}  # link path (tuple) -> (alias, sql)

    @property
    def record(self) -> str:
        """The alias of the schema's record (joined on first use)."""
        return self._join(())

    def _join(self, links: tuple) -> str:
        if links in self._joins:
            return self._joins[links][0]
        parent = self._join(links[:-1]) if links else None
        a = f"{self.alias}_s{len(self._joins)}"
        if not links:
            table, pk = table_of(self.schema)
            sql = f"JOIN {q(table)} {a} ON {a}.{q(pk)} = {self.alias}.key"
        else:
            schema = self._schema_at(links[:-1])
            target, via = rules.metadata().schemas[schema]["links"][links[-1]]
            table, pk = table_of(target)
            sql = f"LEFT JOIN {q(table)} {a} ON {a}.{q(pk)} = {parent}.{q(via)}"
        self._joins[links] = (a, sql)
        return a

    def _schema_at(self, links: tuple) -> str:
        current = self.schema
        for link in links:
            current = rules.metadata().schemas[current]["links"][link][0]
        return current

    def expr(self, ref, path: str = "field") -> tuple[str, str]:
        """``(SQL expression, attribute type)`` of ``ref`` on each row."""
        name = _column_name(ref, self.columns)
        if name is not None:
            if name not in self.columns:
                _fail(path, f"the population has no column {name!r}")
            column = self.columns[name]
            return f"{self.alias}.{column['column']}", column["type"]
        if self.schema is None:
            _fail(path, f"the file has no column {ref!r}")
        _lookup, kind = rules.field_lookup(schema=self.schema, field=ref, path=path)
        parts = ref.split(".")
        if len(parts) == 1 and parts[0] == rules.metadata().schemas[self.schema]["pk"]:
            return f"{self.alias}.key", kind
        owner = self._join(tuple(parts[:-1]))
        return f"{owner}.{q(parts[-1])}", kind

    def from_sql(self) -> str:
        joins = " ".join(sql for _alias, sql in self._joins.values())
        return f"{self.population.table_name} {self.alias} {joins}".rstrip()


def order_sql(source: Source, order_by, seed, path: str = "order_by") -> tuple[str, list]:
    """``(ORDER BY list, params)`` for ``order_by`` (see the module docstring)."""
    key = f"{source.alias}.key"
    if order_by in (None, ""):
        return key, []
    if order_by == "random":
        return f"md5(%s || {key}::text), {key}", [str(seed)]
    descending = order_by.startswith("-")
    expression, _kind = source.expr(order_by.lstrip("-"), path)
    direction = "DESC" if descending else "ASC"
    return f"{expression} {direction} NULLS LAST, {key}", []
