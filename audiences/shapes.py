"""The shape of a population (design 9): its schema and the columns activities added to it.

``Shape(schema, columns)``: ``schema`` is a schema name, ``columns`` maps each added column's alias
to its attribute type (``{"total": "decimal"}``), in order. Campaign validation passes shapes from
activity to activity, so a rule naming ``target.ALIAS`` or a field of the wrong schema is an error
before anything runs; at run time ``Shape.of(population)`` gives the same description of a real
working set.

A loaded file's rows (``load_file``) have no schema: their shape is ``Shape.file(columns)``
(``schema == ""``, ``is_file``); only kinds that read columns (reconciliation, update_data, an
enrichment's file join) accept one.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Shape:
    schema: str
    columns: dict = field(default_factory=dict)

    @classmethod
    def of(cls, population) -> "Shape":
        schema = population.schema.name if population.schema_id else ""
        return cls(schema, {c["name"]: c["type"] for c in population.columns})

    @classmethod
    def file(cls, columns: dict) -> "Shape":
        """The shape of a loaded file's rows: no schema, the file's typed columns."""
        return cls("", dict(columns))

    @property
    def is_file(self) -> bool:
        return not self.schema

    def keys_only(self) -> "Shape":
        """The same schema without added columns (what set operations keep)."""
        return Shape(self.schema, {})

    def plus(self, columns: dict) -> "Shape":
        """This shape with more columns (alias -> type), later ones replacing earlier."""
        return Shape(self.schema, {**self.columns, **columns})

    def describe(self) -> str:
        if self.is_file:
            return f"file rows ({', '.join(self.columns)})"
        if not self.columns:
            return self.schema
        return f"{self.schema} + {', '.join(self.columns)}"

    def __hash__(self):
        return hash((self.schema, tuple(self.columns.items())))
