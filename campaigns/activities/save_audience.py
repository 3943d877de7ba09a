"""``save_audience``: saves the inbound population (keys and columns) as the snapshot audience
``name``, replacing its members on each run under that exact name (no append, no " (copy)");
created on the first run. Passes its input on. In a test run nothing is saved: the activity's
state says so (design 7). Other systems read what was saved at ``audiences/{name}/members/``.
See ``audiences.services.audiences.save_snapshot``."""

from audiences.models import AudienceKind, SavedAudience
from audiences.services import audiences
from campaigns.activities import options as o
from campaigns.activities import targeting
from campaigns.activities.base import ActivityKind, error
from config.access import SYSTEM


class SaveAudience(ActivityKind):
    type = "save_audience"
    label = "Save audience"
    group = "targeting"
    help_text = (
        "Saves the population as a snapshot audience under its exact name, replacing its "
        "members on each run (skipped in test runs)."
    )
    options = o.options(
        name=o.string(description="The snapshot audience's name.", widget="identifier"),
    )

    def validate(self, options, check):
        shape, errors = targeting.schema_input(check)
        name = options.get("name")
        found = SavedAudience.objects.filter(name=name).select_related("schema").first()
        if found is not None and found.kind != AudienceKind.SNAPSHOT:
            errors.append(error(check.at("name"), f"{name!r} is a rule audience"))
        elif found is not None and shape is not None and found.schema.name != shape.schema:
            message = f"{name!r} holds {found.schema.name} records, not {shape.schema}"
            errors.append(error(check.at("name"), message))
        return errors

    def run(self, ctx):
        name = ctx.options["name"]
        if ctx.test:
            ctx.state["note"] = (
                f"skipped (test run): {ctx.input.count} members not saved as {name!r}"
            )
            return {"out": ctx.input}
        audience, created = audiences.save_snapshot(
            name=name, population=ctx.input, user=getattr(ctx.run, "started_by", None) or SYSTEM
        )
        ctx.state.update({"audience": audience.name, "members": audience.count, "created": created})
        return {"out": ctx.input}
