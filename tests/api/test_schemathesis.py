"""schemathesis over the whole OpenAPI schema, against a real gunicorn on 127.0.0.1.

What it proves: no generated request, valid or not, gets a 5xx (``not_a_server_error``), and
every answer matches what ``/api/schema/`` documents (``response_schema_conformance``), for every
operation the schema lists. Zero failures, or the test fails with schemathesis's report (each
failure with a ``curl`` line to replay it) and the server's log.

How it runs:
- ``seeded`` creates throwaway objects through the services: schemas with records (one to be
  deleted), saved audiences (one to be deleted), a draft campaign with a test run that a real
  worker finished, a live signal campaign, a human task, an import. Path parameters are drawn
  from them (``PATH_VALUES``; 90% of the time, the rest generated), so operations reach their
  logic instead of 404s, and destructive or sending operations only ever touch these objects
  (runs are test runs or triggers of the probe campaign, which has no channel activity).
- The run repeats: a fixed ``--seed``, no example database, one schemathesis worker.
- The budget: ``examples_per_operation`` shrinks as operations are added (about
  ``BUDGET_CASES`` fuzzed cases in all, between ``MIN_EXAMPLES`` and ``MAX_EXAMPLES`` per
  operation), so the run stays within a few minutes; measured: about 90 s for 49 operations.

Adding an endpoint: nothing to do when its path parameters are named like existing ones (``id``
under ``campaigns/``, ``runs/``, ``tasks/``; ``name`` under ``schemas/`` and ``audiences/``...).
A path parameter of a new kind gets its seeded object in ``seeded`` and a line in
``PATH_VALUES`` (``(path prefix, parameter): key of seeded``); an operation that sends messages
must only reach objects seeded here (a channel's provider pointing at a loopback test server).
"""

import json
import re
import subprocess
import sys
import time
import uuid

import pytest
import requests
from django.contrib.auth.models import Group, User
from django.db import connection
from rest_framework.authtoken.models import Token

from audiences import populations
from audiences.models import RecordImport
from audiences.services import audiences as audience_services
from audiences.services.record_documents import write_records
from audiences.services.schemas import create_schemas
from campaigns import services
from channels import consents, tracking
from channels import services as channels
from config.access import SYSTEM
from tests.api.live import Gunicorn
from tests.campaigns.conftest import Engine, final_run

pytestmark = [pytest.mark.workers, pytest.mark.timeout(600)]

SEED = 20261201
BUDGET_CASES = 600
MIN_EXAMPLES, MAX_EXAMPLES = 4, 15
CHECKS = "not_a_server_error,response_schema_conformance"
# (path prefix, path parameter) -> key of the seeded objects; the first prefix that matches wins.
PATH_VALUES = [
    ("/api/campaigns/{id}/versions/{number}/", "number", "version_numbers"),
    ("/api/campaigns/", "id", "campaign_ids"),
    ("/api/runs/", "id", "run_ids"),
    ("/api/runs/", "source", "sources"),
    ("/api/runs/", "port", "ports"),
    ("/api/tasks/", "id", "task_ids"),
    ("/api/schemas/{name}/imports/", "id", "import_ids"),
    ("/api/schemas/", "name", "schema_names"),
    ("/api/schemas/", "attribute", "attribute_names"),
    ("/api/schemas/", "link", "link_names"),
    ("/api/audiences/", "name", "audience_names"),
    ("/api/deliveries/", "id", "delivery_ids"),
    ("/api/suppressions/", "id", "suppression_ids"),
    ("/t/", "token", "tokens"),
    ("/u/", "token", "tokens"),
    ("/v/", "token", "tokens"),
    ("/hooks/", "provider", "providers"),
]
DELETE_VALUES = {"schema_names": "scratch_schemas", "audience_names": "scratch_audiences"}


def examples_per_operation(operations: int) -> int:
    return max(MIN_EXAMPLES, min(MAX_EXAMPLES, BUDGET_CASES // max(operations, 1)))


def _schemas(suffix):
    store, customer, scratch = (f"probe{suffix}_{n}" for n in ("store", "customer", "scratch"))
    text = {"type": "string"}
    link = {"name": "store", "to": store, "via": "store_id"}
    create_schemas(
        document={
            "schemas": [
                {
                    "name": store,
                    "primary_key": "store_id",
                    "attributes": [{"name": "store_id", **text}, {"name": "city", **text}],
                },
                {
                    "name": customer,
                    "label": "Probe customers",
                    "primary_key": "customer_id",
                    "targeting": {"email": "email"},
                    "attributes": [
                        {"name": "customer_id", **text},
                        {"name": "email", **text},
                        {"name": "country", **text},
                        {"name": "points", "type": "integer"},
                        {"name": "store_id", **text},
                    ],
                    "links": [{**link, "reverse": "customers"}],
                },
                {
                    "name": scratch,
                    "primary_key": "scratch_id",
                    "attributes": [
                        {"name": "scratch_id", **text},
                        {"name": "note", **text},
                        {"name": "store_id", **text},
                    ],
                    "links": [{**link, "reverse": "scratches"}],
                },
            ]
        },
        user=SYSTEM,
    )
    return store, customer, scratch


def _records(store, customer, user):
    stores = [{"store_id": f"s{i}", "city": city} for i, city in enumerate(("Paris", "Lyon"))]
    write_records(schema=_schema(store), document={"records": stores}, user=user)
    people = [
        {
            "customer_id": f"c{i}",
            "email": f"c{i}@example.com",
            "country": "FR" if i % 3 else "DE",
            "points": i * 100,
            "store_id": f"s{i % 2}",
        }
        for i in range(1, 13)
    ]
    write_records(schema=_schema(customer), document={"records": people}, user=user)


def _schema(name):
    from audiences.models import Schema

    return Schema.objects.get(name=name)


def _definition(name, customer, frequency):
    return {
        "name": name,
        "schedule": {"frequency": frequency},
        "activities": [
            {
                "id": "aud",
                "type": "build_audience",
                "schema": customer,
                "where": {"field": "points", "op": "gte", "value": 300},
            },
            {
                "id": "check",
                "type": "test",
                "conditions": [{"name": "big", "when": {"field": "count", "op": "gt", "value": 5}}],
            },
            {"id": "done_big", "type": "end"},
            {"id": "done", "type": "end"},
        ],
        "transitions": [
            {"from": "aud", "to": "check"},
            {"from": "check", "port": "big", "to": "done_big"},
            {"from": "check", "port": "default", "to": "done"},
        ],
    }


@pytest.fixture
def seeded(transactional_db):
    """The throwaway objects schemathesis works on, and a staff superuser's token; every table
    created meanwhile (by the fixture or by generated requests) is dropped afterwards."""
    tables_before = _data_tables()
    user = User.objects.create_superuser("probe", "probe@example.com", None)
    suffix = uuid.uuid4().hex[:6]
    store, customer, scratch = _schemas(suffix)
    _records(store, customer, user)
    for name in (f"probe{suffix}_buyers", f"probe{suffix}_gone"):
        audience_services.create_rule_audience(
            name=name, schema=customer, where={"field": "country", "op": "eq", "value": "FR"}
        )
    draft = services.create_from_definition(
        document=_definition(f"Probe {suffix} draft", customer, "asap"), user=user
    )
    live = services.create_from_definition(
        document=_definition(f"Probe {suffix} signal", customer, "signal"), user=user
    )
    services.publish(campaign=live, user=user)
    engine = Engine()
    engine.flush_redis()
    engine.worker()
    try:
        run = final_run(services.test_run(campaign=draft, user=user))
    finally:
        engine.stop()
    approvers = Group.objects.create(name=f"probe {suffix} approvers")
    task = run.humantask_set.create(kind="approval", title="Probe approval", group=approvers)
    tokens, delivery_ids = _tracked_message(customer)
    suppression = consents.suppress(
        user=user, channel="email", address="probe-bounced@example.com", reason="blocklist"
    )
    done = RecordImport.objects.create(
        schema=_schema(customer), file="imports/probe.csv", status="succeeded", rows=2, written=2
    )
    yield {
        "token": Token.objects.create(user=user).key,
        "campaign_ids": [draft.pk, live.pk],
        "version_numbers": [1],
        "run_ids": [run.pk],
        "sources": ["aud", "check"],
        "ports": ["out", "big", "default"],
        "task_ids": [task.pk],
        "import_ids": [done.pk],
        "schema_names": [customer, store],
        "scratch_schemas": [scratch],
        "attribute_names": ["note", "country"],
        "link_names": ["store"],
        "audience_names": [f"probe{suffix}_buyers"],
        "scratch_audiences": [f"probe{suffix}_gone"],
        "delivery_ids": delivery_ids,
        "suppression_ids": [suppression.pk],
        "tokens": tokens,
        "providers": ["generic", "twilio"],
    }
    engine.flush_redis()
    with connection.cursor() as cursor:
        for table in _data_tables() - tables_before:
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)} CASCADE")


def _tracked_message(customer):
    """A staged (test) email delivery to the probe customers, and signed tokens of every
    purpose for one of its messages (open, click, unsubscribe, view), so the public endpoints
    reach their logic; a mixed dictionary, so tokens of the wrong purpose are tried too."""
    population = populations.from_rule(schema=_schema(customer), where={"and": []})
    delivery = channels.stage(
        population=population, channel="email", test=True,
        content={"subject": "Probe", "html": '<a href="https://example.com/a">a</a>'},
        owner={"campaign_name": "Probe", "activity_key": "mail"},
    )  # fmt: skip
    message = delivery.messages.order_by("id").first()
    tokens = [
        tracking.sign("open", message.pk),
        tracking.sign("click", {"m": message.pk, "u": "https://example.com/a"}),
        tracking.sign("unsubscribe", message.pk),
        tracking.sign("view", message.pk),
    ]
    return tokens, [delivery.pk]


def _data_tables():
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE tablename ~ '^(data|pop)_'")
        return {row[0] for row in cursor.fetchall()}


def _dictionary_key(method, path, parameter):
    for prefix, name, key in PATH_VALUES:
        if path.startswith(prefix) and parameter == name:
            return DELETE_VALUES.get(key, key) if method == "delete" and name == "name" else key
    return None


def config_file(schema, seeded, folder):
    """schemathesis.toml: a dictionary per seeded key, bound to the path parameters of each
    operation (``PATH_VALUES``)."""
    lines = []
    for key, values in seeded.items():
        if isinstance(values, list):
            lines += [f"[dictionaries.{key}]", f"values = {json.dumps(values)}", ""]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            bindings = {
                f"path.{name}": key
                for name in re.findall(r"\{(\w+)\}", path)
                if (key := _dictionary_key(method, path, name))
            }
            if bindings:
                inline = ", ".join(
                    f'"{p}" = {{ dictionary = "{k}", probability = 0.9 }}'
                    for p, k in bindings.items()
                )
                lines += [
                    "[[operations]]",
                    f'include-operation-id = "{operation["operationId"]}"',
                    f"parameters = {{ {inline} }}",
                    "",
                ]
    path = folder / "schemathesis.toml"
    path.write_text("\n".join(lines))
    return path


def _operations(schema):
    return sum(len(operations) for operations in schema["paths"].values())


def test_no_server_error_and_every_answer_as_documented(seeded, tmp_path):
    server = Gunicorn(tmp_path)
    try:
        headers = {"Authorization": f"Token {seeded['token']}"}
        schema = requests.get(f"{server.url}/api/schema/?format=json", headers=headers).json()
        operations = _operations(schema)
        examples = examples_per_operation(operations)
        command = [
            *(sys.executable, "-m", "schemathesis.cli"),
            *("--config-file", str(config_file(schema, seeded, tmp_path))),
            *("run", f"{server.url}/api/schema/?format=json"),
            *("--header", f"Authorization: Token {seeded['token']}"),
            *("--checks", CHECKS, "--max-examples", str(examples), "--seed", str(SEED)),
            *("--generation-database", "none", "--workers", "1", "--no-color"),
            *("--request-timeout", "30", "--report", "junit", "--report-dir", str(tmp_path)),
        ]
        started = time.monotonic()
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=540, check=False, cwd=tmp_path
        )
        elapsed = time.monotonic() - started
    finally:
        log = server.stop()
    (tmp_path / "schemathesis.txt").write_text(result.stdout + result.stderr)
    summary = result.stdout[result.stdout.rfind("SUMMARY") :]
    print(f"schemathesis: {operations} operations, {examples} examples each, {elapsed:.0f} s")
    print(summary)
    failures = result.stdout[result.stdout.find("FAILURES") : result.stdout.find("WARNINGS")]
    assert result.returncode == 0, f"{failures[:30000]}\n{result.stderr}\nserver:\n{log[-5000:]}"
    tested = re.search(r"Tested:\s+(\d+)", summary)
    assert tested and int(tested.group(1)) == operations, summary
    assert "Traceback" not in log, log
