"""The limits of design 5.0 through the API: column lengths, rule nesting, page numbers, unknown
keys, filters, schedules. Each refusal is a 400 at its path; nothing is written."""

import pytest
from django.contrib.auth.models import Group

from audiences import rules
from audiences.services import audiences as audience_services
from campaigns import services
from campaigns.models import Campaign, HumanTask
from tests.audiences import rule_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_client):
    rule_data.load()
    return api_client


def paths(response):
    assert response.status_code == 400, response.content
    return [e["path"] for e in response.json()["errors"]]


def definition(**changes):
    doc = {
        "name": "Limits",
        "activities": [
            {"id": "aud", "type": "build_audience", "schema": "customer"},
            {
                "id": "check",
                "type": "test",
                "conditions": [{"name": "big", "when": {"field": "count", "op": "gt", "value": 1}}],
            },
            {"id": "done", "type": "end"},
            {"id": "rest", "type": "end"},
        ],
        "transitions": [
            {"from": "aud", "to": "check"},
            {"from": "check", "port": "big", "to": "done"},
            {"from": "check", "port": "default", "to": "rest"},
        ],
    }
    doc.update(changes)
    return doc


def nested(rule, depth, key="not"):
    for _ in range(depth - 1):
        rule = {key: rule} if key == "not" else {key: [rule]}
    return rule


FRENCH = {"field": "country", "op": "eq", "value": "FR"}


def test_strings_longer_than_their_column_are_400_at_their_path(api):
    doc = definition(name="n" * 201)
    doc["activities"][1]["label"] = "l" * 201
    doc["activities"][0]["id"] = "a" * 41
    assert paths(api.post("/api/campaigns/", doc, format="json")) == [
        "name",
        "activities[0].id",
        "activities[1].label",
        "transitions[0].from",
    ]
    long_port = definition()
    long_port["activities"][1]["conditions"][0]["name"] = "p" * 41
    long_port["transitions"][1]["port"] = "p" * 41
    response = api.post("/api/campaigns/", long_port, format="json")
    assert paths(response) == ["transitions[1].port"]
    assert "at most 40 characters" in response.json()["errors"][0]["message"]
    schema = {"name": "shop", "label": "s" * 201, "primary_key": "shop_id"}
    schema["attributes"] = [{"name": "shop_id", "type": "string"}]
    assert paths(api.post("/api/schemas/", schema, format="json")) == ["label"]
    audience = {"name": "a" * 41, "schema": "customer", "where": FRENCH}
    assert paths(api.post("/api/audiences/", audience, format="json")) == ["name"]
    assert not Campaign.objects.exists()


def test_the_copy_of_a_name_that_fills_its_column_still_fits(api):
    first = api.post("/api/campaigns/", definition(name="n" * 200), format="json").json()
    copy = api.post(f"/api/campaigns/{first['id']}/duplicate/").json()
    assert len(copy["name"]) == 200 and copy["name"].endswith(" (copy)")


def count(api, where):
    return api.post("/api/audiences/count/", {"schema": "customer", "where": where}, "json")


def test_rules_nest_at_most_64_levels(api):
    for key in ("not", "and", "or"):
        response = count(api, nested(FRENCH, 64, key))
        assert response.status_code == 200, (key, response.json())
    [error] = count(api, nested(FRENCH, 65, "not")).json()["errors"]
    assert error["path"] == "where" + ".not" * 64
    assert error["message"].startswith("rules nest at most 64 levels")
    # {"and": [...]} takes two JSON levels: 65 of them pass the 128 levels of a body first
    [error] = count(api, nested(FRENCH, 65, "and")).json()["errors"]
    assert error == {"path": "", "message": "nested 130 levels deep; at most 128 are accepted"}
    # Deeper than any body: rules from elsewhere (the admin, commands) meet the same limit,
    # never a RecursionError (900 levels were one).
    [error] = rules.check(schema="customer", where=nested(FRENCH, 900, "not"))
    assert error["path"] == "where" + ".not" * 64


def test_the_deepest_rules_compile_and_count(api):
    """64 levels of exists, aggregates and negations: the compiler and PostgreSQL's planner
    take the deepest rule the parser lets through."""
    from audiences.services.schemas import create_schemas

    create_schemas(
        document={
            "name": "person",
            "primary_key": "person_id",
            "attributes": [
                {"name": "person_id", "type": "string"},
                {"name": "parent_id", "type": "string"},
                {"name": "n", "type": "integer"},
            ],
            "links": [{"name": "parent", "to": "person", "via": "parent_id", "reverse": "kids"}],
        }
    )
    leaf = {"field": "n", "op": "gt", "value": 1}
    for step in (
        lambda r: {"exists": "kids", "where": r},
        lambda r: {"exists": "parent", "where": r},
        lambda r: {"aggregate": "count", "link": "kids", "where": r, "op": "gt", "value": 0},
        lambda r: {"not": r},
    ):
        rule = leaf
        for _ in range(63):
            rule = step(rule)
        response = api.post("/api/audiences/count/", {"schema": "person", "where": rule}, "json")
        assert response.status_code == 200, response.json()
        assert response.json()["count"] == 0


def test_the_depth_counts_the_rules_of_the_audiences_used(api):
    audience_services.create_rule_audience(
        name="deep_french", schema="customer", where=nested(FRENCH, 40, "and")
    )
    fine = nested({"in_audience": "deep_french"}, 20, "and")
    response = api.post("/api/audiences/count/", {"schema": "customer", "where": fine}, "json")
    assert response.status_code == 200, response.json()
    too_deep = nested({"in_audience": "deep_french"}, 30, "and")
    body = {"schema": "customer", "where": too_deep}
    [error] = api.post("/api/audiences/count/", body, format="json").json()["errors"]
    assert error["path"].endswith(".in_audience")
    assert "rules nest at most 64 levels" in error["message"]


def test_test_conditions_nest_at_most_64_levels(api, staff_user):
    doc = definition()
    doc["activities"][1]["conditions"][0]["when"] = nested(
        {"field": "count", "op": "gt", "value": 1}, 65
    )
    campaign = services.create_from_definition(document=doc, user=staff_user)
    body = api.get(f"/api/campaigns/{campaign.pk}/validate/").json()
    assert not body["valid"]
    [error] = [e for e in body["errors"] if "nest" in e["message"]]
    assert error["path"] == "activities[1].conditions[0].when" + ".not" * 64


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("page=abc", "page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=1.5", "page"),
        ("page=99999999999999999999999999", "page"),
        ("page=2", "page"),
        ("page_size=abc", "page_size"),
        ("page_size=0", "page_size"),
        ("page_size=-5", "page_size"),
        ("page_size=1001", "page_size"),
        ("page_size=99999999999999999999999999", "page_size"),
    ],
)
def test_every_list_refuses_bad_page_numbers_at_their_path(api, staff_user, query, path):
    """Every list of the OpenAPI schema that answers a page (``Page``), and the transition
    records, refuse bad page numbers with a 400 at the parameter."""
    from audiences.services.audiences import create_rule_audience

    campaign = services.create_from_definition(document=definition(), user=staff_user)
    # {name} is "customer" in every path: a schema, and a saved audience for members/
    create_rule_audience(name="customer", schema="customer", where={"and": []}, user=staff_user)
    schema = api.get("/api/schema/?format=json").json()
    lists = [
        p.replace("{id}", str(campaign.pk)).replace("{name}", "customer")
        for p, ops in schema["paths"].items()
        if "get" in ops
        and any(x["name"] == "page" for x in ops["get"].get("parameters", []))
        and "{source}" not in p
    ]
    assert {"/api/campaigns/", "/api/runs/", "/api/schemas/customer/records/"} <= set(lists)
    for url in lists:
        assert paths(api.get(f"{url}?{query}")) == [path], url
    assert api.get("/api/campaigns/?page=1&page_size=1000").status_code == 200


def test_pages_are_the_same_everywhere(api, staff_user):
    for n in range(3):
        services.create_from_definition(document=definition(name=f"c{n}"), user=staff_user)
    page = api.get("/api/campaigns/?page=2&page_size=2").json()
    assert page["count"] == 3 and len(page["results"]) == 1
    assert page["previous"].endswith("page_size=2") and page["next"] is None
    records = api.get("/api/schemas/customer/records/?page_size=1").json()
    assert set(records) == {"count", "next", "previous", "results"}
    versions = api.get(f"/api/campaigns/{Campaign.objects.first().pk}/versions/").json()
    assert versions == {"count": 0, "next": None, "previous": None, "results": []}


def test_unknown_keys_in_query_bodies_are_refused(api):
    for path, body in (
        ("count/", {"schema": "customer", "limit": 3}),
        ("preview/", {"schema": "customer", "field": "country"}),
        ("distribution/", {"schema": "customer", "field": "country", "columns": []}),
        ("count/", {"schema": "customer", "wher": FRENCH}),
    ):
        response = api.post(f"/api/audiences/{path}", body, format="json")
        [error] = response.json()["errors"]
        assert error["path"] in ("limit", "field", "columns", "wher"), path
        assert error["message"].startswith("unknown field (allowed: schema, where, variables")
    assert paths(api.post("/api/audiences/count/", [1], format="json")) == [""]


def test_bad_filters_are_400_at_their_parameter(api, staff_user):
    for query in ("campaign=null", "campaign=-1", "campaign=%C2%B2", "campaign=1e3"):
        assert paths(api.get(f"/api/runs/?{query}")) == ["campaign"], query
    assert api.get("/api/runs/?campaign=99999999999999999999").json()["count"] == 0
    assert api.get(f"/api/runs/?campaign={'9' * 200}").status_code == 400
    assert paths(api.get("/api/tasks/?status=done%00")) == ["status"]
    assert paths(api.get("/api/tasks/?status=finished")) == ["status"]
    audience_services.create_rule_audience(name="french", schema="customer", where=FRENCH)
    assert paths(api.get("/api/audiences/french/?refresh=maybe")) == ["refresh"]
    assert paths(api.delete("/api/schemas/customer/?confirm=perhaps")) == ["confirm"]


def test_a_task_decision_takes_only_a_comment(api):
    task = HumanTask.objects.create(title="t", group=Group.objects.create(name="g"))
    response = api.post(f"/api/tasks/{task.pk}/approve/", {"comment": 5}, format="json")
    assert paths(response) == ["comment"]
    assert paths(api.post(f"/api/tasks/{task.pk}/approve/", {"why": "x"}, format="json")) == ["why"]
    done = api.post(f"/api/tasks/{task.pk}/approve/", {"comment": "ok"}, format="json")
    assert done.status_code == 200 and done.json()["comment"] == "ok"


def test_a_schedule_with_an_unknown_time_zone_or_an_unparsable_at_is_a_400(api, staff_user):
    """Refused on save at its path; and a campaign whose stored schedule cannot launch (saved
    before the checks existed) is refused by publish/ with the same errors, never a 500."""
    from campaigns.models import Campaign

    bad = {"frequency": "once", "at": "next tuesday", "timezone": "Mars/Base"}
    refused = api.post("/api/campaigns/", definition(schedule=bad), format="json")
    assert refused.status_code == 400
    assert paths(refused) == ["schedule.timezone"]
    bad_at = {"frequency": "once", "at": "next tuesday", "timezone": "UTC"}
    assert paths(api.post("/api/campaigns/", definition(schedule=bad_at), format="json")) == [
        "schedule.at"
    ]
    campaign = services.create_from_definition(document=definition(), user=staff_user)
    Campaign.objects.filter(pk=campaign.pk).update(schedule=bad)
    response = api.post(f"/api/campaigns/{campaign.pk}/publish/")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "schedule.timezone", "message": "unknown time zone 'Mars/Base'"},
    ]
    campaign.refresh_from_db()
    assert campaign.status == "draft" and not campaign.versions.exists()
    typed = definition(schedule={"frequency": "once", "at": 5, "timezone": ["UTC"]})
    assert paths(api.post("/api/campaigns/", typed, format="json")) == ["schedule.timezone"]


def test_transition_records_page_like_every_list(api, staff_user):
    from audiences import populations
    from campaigns import definitions
    from campaigns.models import ActivityRun, Run, Version

    campaign = services.create_from_definition(document=definition(), user=staff_user)
    version = Version.objects.create(campaign=campaign, definition=definitions.export(campaign))
    run = Run.objects.create(campaign=campaign, version=version, test=True, status="succeeded")
    from audiences.models import Schema

    french = populations.from_rule(schema=Schema.objects.get(name="customer"), where=FRENCH)
    ActivityRun.objects.create(
        run=run, key="aud", type="build_audience", status="succeeded", attempt=1,
        outputs={"out": french.pk}, counts={"out": french.count},
    )  # fmt: skip
    url = f"/api/runs/{run.pk}/transitions/aud/out/records/"
    first = api.get(f"{url}?page_size=1").json()
    assert first["count"] == french.count == 2 and len(first["results"]) == 1
    assert "page=2" in first["next"]
    assert first["previous"] is None and first["pages"] == 2
    last = api.get(f"{url}?page_size=1&page=2").json()
    assert last["next"] is None and last["previous"] is not None
    for query, path in (
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=3&page_size=1", "page"),
        ("page=99999999999999999999999", "page"),
        ("page_size=1001", "page_size"),
        ("page_size=x", "page_size"),
    ):
        assert paths(api.get(f"{url}?{query}")) == [path], query
