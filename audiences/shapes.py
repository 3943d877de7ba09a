"""The shape of a population (design 9): its schema and the columns activities added to it.

``Shape(schema, columns)``: ``schema`` is a schema name, ``columns`` maps each added column's alias
to its attribute type (``{"total": "decimal"}``), in order. Campaign validation passes shapes from
activity to activity, so a rule naming ``target.ALIAS`` or a field of the wrong schema is an error
before anything runs; at run time ``Shape.of(population)`` gives the same description of a real
working set.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Shape:
    schema: str
    columns: dict = field(default_factory=dict)

    @classmethod
    def of(cls, population) -> "Shape":
        return cls(population.schema.name, {c["name"]: c["type"] for c in population.columns})

    def keys_only(self) -> "Shape":
        """The same schema without added columns (what set operations keep)."""
        return Shape(self.schema, {})

    def plus(self, columns: dict) -> "Shape":
        """This shape with more columns (alias -> type), later ones replacing earlier."""
        return Shape(self.schema, {**self.columns, **columns})

    def describe(self) -> str:
        if not self.columns:
            return self.schema
        return f"{self.schema} + {', '.join(self.columns)}"

    def __hash__(self):
        return hash((self.schema, tuple(self.columns.items())))
