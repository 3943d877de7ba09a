"""The JSON records document of design 5.2 (``POST schemas/{name}/records/``), written through the
one set-based path of ``audiences.services.records`` (stage, validate in SQL, write).

A JSON record's missing keys are staged as null: on insert they are null, on update they are set to
null (a record is the whole record; send the stored value to keep it).
"""

from django.db import connection, transaction

from audiences.services.records import (
    MISSING_LINKS,
    MODES,
    Outcome,
    Target,
    _write,
    collect_rejects,
    create_stage,
    q,
    validate_staged,
)
from config.access import require
from config.audit import log_change
from config.errors import ValidationFailed


def _scalar_text(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _document_options(document):
    errors, options = [], {}
    if not isinstance(document, dict):
        raise ValidationFailed([{"path": "", "message": "expected a JSON object"}])
    for key, allowed, default in (
        ("mode", MODES, "upsert"),
        ("missing_links", MISSING_LINKS, "reject"),
        ("atomic", (True, False), True),
    ):
        options[key] = document.get(key, default)
        if options[key] not in allowed:
            errors.append({"path": key, "message": f"must be one of {list(allowed)}"})
    if not isinstance(document.get("records"), list):
        errors.append({"path": "records", "message": "expected a list of records"})
    unknown = set(document) - {"mode", "missing_links", "atomic", "records"}
    errors += [{"path": key, "message": "unknown option"} for key in sorted(unknown)]
    if errors:
        raise ValidationFailed(errors)
    return options


def _shape_errors(records, target):
    """Errors that need no database: not an object, unknown keys, nested values."""
    errors = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            errors.append((index, "", "expected an object"))
            continue
        errors += [
            (index, key, "unknown attribute") for key in record if key not in target.attributes
        ]
        errors += [
            (index, key, "expected a string, number, boolean or null")
            for key, value in record.items()
            if isinstance(value, dict | list)
        ]
    return errors


def _staged_columns(records, target, mode):
    if mode == "delete":
        return [target.pk]
    present = {key for record in records if isinstance(record, dict) for key in record}
    return [
        name
        for name, attribute in target.attributes.items()
        if name in present or attribute.required or name == target.pk
    ]


def _stage_records(cursor, records, columns, skip, op):
    names = ", ".join(q(c) for c in columns)
    with cursor.cursor.copy(f"COPY _stage (_row, _op, {names}) FROM STDIN") as copy:
        for index, record in enumerate(records):
            if index not in skip:
                copy.write_row([index, op, *(_scalar_text(record.get(c)) for c in columns)])


def _path(index, column):
    return f"records[{index}].{column}" if column else f"records[{index}]"


def write_records(*, schema, document, user):
    """Write the records of a design 5.2 document into ``schema``; returns the response body.

    Needs ``audiences.change_records``. Atomic: any bad record raises ValidationFailed with every
    path and nothing is written."""
    require(user, "audiences.change_records", "Writing records")

    options = _document_options(document)
    records, mode = document["records"], options["mode"]
    target = Target(schema)
    shape = _shape_errors(records, target)
    columns = _staged_columns(records, target, mode)
    with transaction.atomic(), connection.cursor() as cursor:
        create_stage(cursor, columns)
        _stage_records(
            cursor, records, columns, {e[0] for e in shape}, "d" if mode == "delete" else "u"
        )
        validate_staged(
            cursor,
            target=target,
            columns=columns,
            mode=mode,
            missing_links=options["missing_links"],
        )
        outcome = Outcome()
        collect_rejects(cursor, outcome)
        problems = sorted(shape + [tuple(r) for r in outcome.rejects])
        if options["atomic"] and problems:
            errors = [{"path": _path(i, c), "message": m} for i, c, m in problems]
            raise ValidationFailed(errors)
        outcome.written, outcome.skipped_older, outcome.unchanged = _write(
            cursor, target, columns, mode
        )
        if outcome.written:
            log_change(
                user=user,
                obj=schema,
                action="change",
                message=f"{mode}: {outcome.written} records written through the API",
            )
    body = {"written": outcome.written, "skipped_older": outcome.skipped_older}
    if not options["atomic"]:
        body["rejected"] = _rejected_list(problems)
    return body


def _rejected_list(problems):
    by_index = {}
    for index, column, message in problems:
        by_index.setdefault(index, []).append(f"{column}: {message}" if column else message)
    return [{"index": i, "message": "; ".join(messages)} for i, messages in by_index.items()]
