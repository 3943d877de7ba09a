"""Definitions (design 5.4): round trip, malformed documents, validation, lifecycle over the API."""

import pytest
from django.contrib.auth.models import Group

from campaigns import definitions, services
from campaigns.activities import registry
from config.access import SYSTEM
from config.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def every_kind(schema_name="customer"):
    """Every flow activity kind, most options left out."""
    return {
        "name": "Everything",
        "variables": [{"name": "country", "type": "string", "default": "FR"}],
        "activities": [
            {"id": "aud", "type": "build_audience", "schema": schema_name, "position": [0, 0]},
            {"id": "saved", "type": "read_audience", "audience": "vip"},
            {"id": "fork", "type": "fork"},
            {"id": "both", "type": "combine"},
            {"id": "check", "type": "test", "conditions": [
                {"name": "big", "when": {"field": "count", "op": "gt", "value": 10}}]},
            {"id": "pause", "type": "wait", "duration": "2h"},
            {"id": "ok", "type": "approval", "group": "approvers"},
            {"id": "join", "type": "and_join"},
            {"id": "done", "type": "end"},
        ],
        "transitions": [
            {"from": "aud", "to": "fork"},
            {"from": "fork", "to": "both"},
            {"from": "saved", "to": "both"},
            {"from": "both", "to": "check"},
            {"from": "check", "port": "big", "to": "pause"},
            {"from": "check", "port": "default", "to": "join"},
            {"from": "pause", "to": "ok"},
            {"from": "ok", "port": "approved", "to": "join"},
            {"from": "join", "to": "done"},
        ],
    }  # fmt: skip


def test_round_trip_fills_defaults_and_is_stable():
    first = services.create_from_definition(document=every_kind(), user=SYSTEM)
    exported = definitions.export(first)
    assert exported["activities"][3] == {
        "id": "both",
        "type": "combine",
        "label": "",
        "position": None,
        "operation": "union",
        "primary": None,
        "keys": None,
        "complement": False,
    }
    assert exported["activities"][6]["expires_in"] == "1d"
    assert exported["error_policy"] == {"on_error": "stop", "retries": 0, "retry_delay": "1min"}
    assert exported["schedule"]["frequency"] == "asap"
    second = services.create_from_definition(document=exported, user=SYSTEM)
    again = definitions.export(second)
    assert second.name == "Everything (copy)"
    assert {**again, "name": exported["name"]} == exported
    duplicate = services.duplicate(campaign=second, user=SYSTEM)
    assert definitions.export(duplicate)["activities"] == exported["activities"]


def test_every_registered_kind_round_trips():
    for kind in registry.all():
        normalized = kind.with_defaults({})
        assert kind.with_defaults(normalized) == normalized
        assert kind.type_errors(normalized, "x") == []


@pytest.mark.parametrize(
    "change,path",
    [
        (lambda d: d["activities"][2].update(type="teleport"), "activities[2].type"),
        (lambda d: d["activities"][1].update(id="aud"), "activities[1].id"),
        (lambda d: d["transitions"][0].update(to="nowhere"), "transitions[0].to"),
        (lambda d: d["transitions"][4].update(port="maybe"), "transitions[4].port"),
        (lambda d: d["activities"][0].update(emit_empty="yes"), "activities[0].emit_empty"),
        (lambda d: d["activities"][0].update(colour="red"), "activities[0].colour"),
        (lambda d: d.update(variables=[{"name": "n", "type": "integer", "default": "x"}]),
         "variables[0].default"),
        (lambda d: d.update(activities={}), "activities"),
    ],
)  # fmt: skip
def test_malformed_documents_are_refused_with_paths(change, path):
    document = every_kind()
    change(document)
    with pytest.raises(ValidationFailed) as caught:
        services.create_from_definition(document=document, user=SYSTEM)
    assert path in [e["path"] for e in caught.value.errors]


def test_incomplete_draft_is_saved_and_validate_reports_with_paths():
    document = every_kind("nothing_here")
    document["activities"].append({"id": "lonely", "type": "fork"})
    document["activities"].append({"id": "orphan", "type": "fork"})
    document["transitions"] += [
        {"from": "orphan", "to": "lonely"},
        {"from": "lonely", "to": "orphan"},
        {"from": "aud", "to": "pause"},
    ]
    campaign = services.create_from_definition(document=document, user=SYSTEM)
    errors = {(e["path"], e["message"]) for e in services.validation_errors(campaign)}
    paths = {p for p, _ in errors}
    assert ("activities[5]", "wait takes one input; merge with combine") in errors
    assert ("activities[9]", "part of a cycle") in errors or (
        "activities[10]",
        "part of a cycle",
    ) in errors
    assert ("activities[9]", "unreachable from any entry activity") in errors
    assert "activities[0].schema" in paths  # unknown schema, from the rules validator
    assert "activities[1].audience" in paths  # no saved audience vip
    assert "activities[6].group" in paths  # no group approvers


def test_graph_errors_missing_input_and_option_errors():
    Group.objects.create(name="approvers")
    document = {
        "name": "Bad",
        "activities": [
            {"id": "w", "type": "wait"},
            {"id": "c", "type": "combine", "operation": "exclusion"},
            {"id": "t", "type": "test", "conditions": [
                {"name": "x", "when": {"field": "vars.nope", "op": "eq", "value": 1}}]},
        ],
        "transitions": [{"from": "w", "to": "t"}],
    }  # fmt: skip
    campaign = services.create_from_definition(document=document, user=SYSTEM)
    errors = {(e["path"], e["message"]) for e in services.validation_errors(campaign)}
    assert ("activities[0]", "missing input") in errors
    assert ("activities[0]", "give either duration or until") in errors
    assert ("activities[1].primary", "exclusion needs a primary input") in errors
    assert any(p == "activities[2].conditions[0].when.field" for p, _ in errors)


def simple(name="Simple", frequency="asap"):
    return {
        "name": name,
        "schedule": {"frequency": frequency},
        "variables": [{"name": "limit", "type": "integer", "default": 3}],
        "activities": [{"id": "aud", "type": "nothing"}],
    }


def test_api_lifecycle_and_conflicts(api_client):
    import tests.campaigns.kinds  # noqa: F401

    created = api_client.post("/api/campaigns/", simple(), format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    bad = api_client.post(f"/api/campaigns/{pk}/test-run/", {"variables": {"limit": "x"}}, "json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["path"] == "variables.limit"
    run = api_client.post(f"/api/campaigns/{pk}/test-run/", {"variables": {"limit": 5}}, "json")
    assert run.status_code == 202 and run.json()["variables"] == {"limit": 5}
    assert run.json()["test"] is True
    changed = {**simple(), "description": "v2"}
    assert api_client.put(f"/api/campaigns/{pk}/", changed, format="json").status_code == 200
    assert api_client.post(f"/api/campaigns/{pk}/publish/").json()["status"] == "live"
    assert api_client.put(f"/api/campaigns/{pk}/", changed, format="json").status_code == 409
    assert api_client.post(f"/api/campaigns/{pk}/publish/").status_code == 409
    assert api_client.post(f"/api/campaigns/{pk}/archive/").status_code == 409
    assert api_client.post(f"/api/campaigns/{pk}/pause/").json()["status"] == "paused"
    assert api_client.post(f"/api/campaigns/{pk}/resume/").json()["status"] == "live"
    assert api_client.post(f"/api/campaigns/{pk}/stop/").json()["status"] == "stopped"
    assert api_client.post(f"/api/campaigns/{pk}/archive/").json()["status"] == "archived"
    version = api_client.get(f"/api/campaigns/{pk}/versions/1/").json()
    assert version["number"] == 1
    assert {"op": "add", "path": "/description", "value": "v2"} in version["diff"]
    runs = api_client.get(f"/api/runs/?campaign={pk}").json()["results"]
    assert [r["test"] for r in runs] == [False, True]
    assert runs[0]["status"] == "stopped"


def test_invalid_campaign_cannot_test_run_or_publish(api_client):
    document = {"name": "Empty-ish", "activities": [{"id": "w", "type": "wait"}]}
    pk = api_client.post("/api/campaigns/", document, format="json").json()["id"]
    report = api_client.get(f"/api/campaigns/{pk}/validate/").json()
    assert report["valid"] is False
    for action in ("test-run", "publish"):
        response = api_client.post(f"/api/campaigns/{pk}/{action}/", {}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"] == report["errors"]


def test_trigger_is_rate_limited(api_client, settings):
    import tests.campaigns.kinds  # noqa: F401

    settings.TRIGGER_MIN_INTERVAL_SECONDS = 60
    pk = api_client.post("/api/campaigns/", simple("Sig", "signal"), format="json").json()["id"]
    assert api_client.post(f"/api/campaigns/{pk}/trigger/", {}, "json").status_code == 409
    api_client.post(f"/api/campaigns/{pk}/publish/")
    first = api_client.post(f"/api/campaigns/{pk}/trigger/", {"variables": {"limit": 9}}, "json")
    assert first.status_code == 202 and first.json()["variables"] == {"limit": 9}
    assert api_client.post(f"/api/campaigns/{pk}/trigger/", {}, "json").status_code == 429


def test_import_and_export_commands(tmp_path):
    from django.core.management import CommandError, call_command

    source = tmp_path / "in.json"
    source.write_text(__import__("json").dumps(every_kind()))
    call_command("import_campaign", str(source))
    from campaigns.models import Campaign

    campaign = Campaign.objects.get(name="Everything")
    out = tmp_path / "out.json"
    call_command("export_campaign", str(campaign.pk), output=str(out))
    exported = __import__("json").loads(out.read_text())
    assert exported == definitions.export(campaign)
    source.write_text('{"name": "x", "activities": [{"id": "a", "type": "teleport"}]}')
    with pytest.raises(CommandError, match=r"activities\[0\]\.type"):
        call_command("import_campaign", str(source))
