"""``load_file``: the lines of a CSV file as a set of rows (keyed by line number) with typed
columns, for ``reconciliation``, ``update_data`` or an ``enrichment``'s file columns.

``file`` names an uploaded campaign file (``POST files/``, the admin) or a path relative to
``CAMPAIGN_FILES_DIR``. ``columns`` define the columns taken (``name``, ``type``, ``required``,
``default``, ``remap``, ``trim``, ``case``); ``delimiter``, ``header``, ``encoding``,
``skip_lines`` and ``date_format`` say how to read the file. Lines that fail (a wrong number of
fields, a bad value, a missing required value) leave by ``rejects`` with their line number and
reason; more than ``max_errors`` of them fail the activity. Streamed in constant memory
(``audiences.population_ops.files``).
"""

from audiences.identifiers import identifier_error
from audiences.models import AttributeType
from audiences.population_ops import file_values, files
from audiences.shapes import Shape
from campaigns import files as campaign_files
from campaigns.activities import options as o
from campaigns.activities import targeting
from campaigns.activities.base import ActivityKind, error

COLUMN = o.obj(description="One column of the file.", required=("name",))
# Set by hand: "required" and "default" are the helper's own keywords.
COLUMN["properties"] = {
    "name": o.string(
        description="Its name (the header's, normalized) and alias.", widget="identifier"
    ),
    "type": o.string(
        "string",
        "Its type. A number is what PostgreSQL reads as one (integer: 64 bits; decimal: 14 "
        "digits before the point, 4 after; never NaN or an infinity); a boolean is true/false, "
        "yes/no, on/off, t/f, y/n or 1/0 in any case; dates are ISO 8601 unless date_format.",
        enum=AttributeType.values,
    ),
    "required": o.boolean(False, "A line without a value is rejected."),
    "default": o.string(None, "The value of an empty field.", nullable=True),
    "remap": {
        "type": "object",
        "default": {},
        "additionalProperties": {"type": "string"},
        "description": 'Values replaced whole, e.g. {"M": "male", "F": "female"}.',
    },
    "trim": o.boolean(True, "Remove spaces around the value."),
    "case": o.string("none", "Change the case of the value.", enum=("none", "lower", "upper")),
}


class FileFailed(Exception):
    """More lines were rejected than ``max_errors`` allows."""


class LoadFile(ActivityKind):
    type = "load_file"
    label = "Load file"
    group = "targeting"
    help_text = (
        "Reads the lines of a CSV file (uploaded, or from the campaign files folder) as rows "
        "with typed columns; refused lines leave by 'rejects' with their line number and reason."
    )
    inputs = "none"
    ports = ("out", "rejects")
    options = o.options(
        file=o.string(
            description="An uploaded file's name, or a path under CAMPAIGN_FILES_DIR.",
            widget="file",
        ),
        columns=o.array(COLUMN, [], "The columns to take.", min_items=1),
        delimiter=o.string(",", "The field separator (one character).", min_length=1, max_length=1),
        header=o.boolean(True, "The first line (after skip_lines) names the columns."),
        encoding=o.string("utf-8", "The file's encoding.", enum=tuple(files.ENCODINGS)),
        skip_lines=o.integer(0, "Lines to skip at the start of the file.", minimum=0),
        date_format=o.string(
            None,
            "Dates as e.g. DD/MM/YYYY or DD/MM/YYYY HH24:MI (default ISO 8601).",
            nullable=True,
        ),
        max_errors=o.integer(
            None, "Fail when more lines than this are rejected.", nullable=True, minimum=0
        ),
    )

    def validate(self, options, check):
        errors, seen = [], set()
        for index, column in enumerate(options.get("columns") or []):
            name = column.get("name")
            if identifier_error(name) is None and name in seen:
                errors.append(error(check.at(f"columns[{index}].name"), f"{name!r} is taken twice"))
            if name == "reason":
                message = "'reason' is the rejects' own column: name it otherwise"
                errors.append(error(check.at(f"columns[{index}].name"), message))
            seen.add(name)
        problem = file_values.format_error(options.get("date_format"))
        if problem:
            errors.append(error(check.at("date_format"), problem))
        return errors

    def outputs(self, options, inbound):
        columns = {
            c["name"]: c.get("type") or "string"
            for c in options.get("columns") or []
            if isinstance(c, dict) and isinstance(c.get("name"), str)
        }
        rejects = {"reason": "string", **dict.fromkeys(columns, "string")}
        return {"out": Shape.file(columns), "rejects": Shape.file(rejects)}

    def run(self, ctx):
        options = ctx.options
        columns = [LoadFile._column(c) for c in options["columns"]]
        rows, rejects = files.load(
            open_stream=campaign_files.opener(options["file"]),
            columns=columns,
            delimiter=options["delimiter"],
            header=options["header"],
            encoding=options["encoding"],
            skip_lines=options["skip_lines"],
            date_format=options["date_format"] or None,
            time_zone=targeting.time_zone(ctx),
            label=targeting.label(ctx),
        )
        ctx.state.update({"loaded": rows.count, "rejected": rejects.count})
        limit = options["max_errors"]
        if limit is not None and rejects.count > limit:
            raise FileFailed(
                f"{rejects.count} lines were rejected, more than max_errors ({limit}); "
                f"first: {files.first_rejects(rejects)}"
            )
        return {"out": rows, "rejects": rejects}

    @staticmethod
    def _column(column):
        return {
            "name": column["name"],
            "type": column.get("type") or "string",
            "required": bool(column.get("required")),
            "default": column.get("default"),
            "remap": column.get("remap") or {},
            "trim": column.get("trim", True),
            "case": column.get("case") or "none",
        }
