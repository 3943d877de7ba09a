"""``change_dimension``: moves the population along ``link``, a link path from its schema
(``customer`` from purchases, ``purchases`` from customers, ``purchases.product``...).

- Many-to-one steps merge records: each linked record appears once, and the added columns are
  dropped (several rows merge into one; ``outputs`` says so).
- One-to-many steps give every linked record; when every step is one-to-many each record keeps
  the columns of the one it came from (each purchase keeps its customer's columns).
- ``complement`` leaves by ``complement`` with the inbound records that lead to no record (no
  link, or a dangling one), with their columns; without it ``complement`` carries nothing.
"""

from audiences.population_ops import dimension
from audiences.shapes import Shape
from campaigns.activities import options as o
from campaigns.activities import targeting
from campaigns.activities.base import ActivityKind
from config.errors import ValidationFailed


class ChangeDimension(ActivityKind):
    type = "change_dimension"
    label = "Change dimension"
    group = "targeting"
    help_text = (
        "Moves the population along a link: purchases to their customers (each once), or "
        "customers to their purchases (every one, keeping the customer's columns)."
    )
    ports = ("out", "complement")
    options = o.options(
        link=o.string(
            description='A link path from the inbound schema, e.g. "customer" or "purchases".',
            widget="link",
        ),
        complement=o.boolean(False, "Also emit, on 'complement', the records with no link."),
    )

    def validate(self, options, check):
        _shape, errors = targeting.schema_input(check)
        return errors

    def outputs(self, options, inbound):
        shape = next(iter(inbound.values()), None)
        if shape is None or shape.is_file:
            return {"out": None, "complement": None}
        try:
            schema, keeps = dimension.target(shape.schema, options.get("link"))
        except ValidationFailed:
            return {"out": None, "complement": shape}
        moved = Shape(schema, dict(shape.columns) if keeps else {})
        return {"out": moved, "complement": shape}

    def run(self, ctx):
        moved, unlinked = dimension.move(
            population=ctx.input,
            link=ctx.options["link"],
            complement=ctx.options["complement"],
            label=targeting.label(ctx),
        )
        return {"out": moved, "complement": unlinked}
