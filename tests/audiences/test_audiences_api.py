"""audiences/count|preview|distribution and saved audiences through the API (design 6)."""

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection

from audiences import populations
from audiences.models import SavedAudience
from audiences.services import audiences as services
from tests.audiences import rule_data

FRENCH = {"field": "country", "op": "eq", "value": "FR"}


@pytest.fixture
def schemas(db):
    return rule_data.load()


def post(api_client, path, body):
    return api_client.post(f"/api/audiences/{path}", body, format="json")


def test_count_shape_and_variables(api_client, schemas):
    response = post(api_client, "count/", {"schema": "customer", "where": FRENCH})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 2 and body["elapsed_ms"] >= 0 and "T" in body["evaluated_at"]
    rule = {"field": "points", "op": "gte", "var": "least"}
    body = post(
        api_client, "count/", {"schema": "customer", "where": rule, "variables": {"least": 10}}
    ).json()
    assert body["count"] == 3


def test_count_errors_name_the_path(api_client, schemas):
    response = post(
        api_client,
        "count/",
        {"schema": "customer", "where": {"and": [{"field": "nope", "op": "eq"}]}},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "where.and[0].field"
    response = post(api_client, "count/", {"schema": "ghost", "where": {}})
    assert response.status_code == 400 and response.json()["errors"][0]["path"] == "schema"


def test_preview_rows_paths_sql_and_params(api_client, schemas):
    response = post(
        api_client,
        "preview/",
        {
            "schema": "customer",
            "where": FRENCH,
            "columns": ["customer_id", "store.city", "balance"],
            "limit": 1,
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 2
    assert body["rows"] == [{"customer_id": "c1", "store.city": "Paris", "balance": "100.5000"}]
    assert "data_customer" in body["sql"] and body["params"] == ["FR"]
    bad = post(
        api_client, "preview/", {"schema": "customer", "where": FRENCH, "columns": ["store.nope"]}
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == "columns[0]"


def test_distribution_top_values(api_client, schemas):
    response = post(
        api_client,
        "distribution/",
        {"schema": "customer", "field": "store.city", "where": {"and": []}},
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "field": "store.city",
        "values": [
            {"value": "Paris", "count": 2},
            {"value": None, "count": 2},
            {"value": "Berlin", "count": 1},
        ],
    }


def test_count_timeout_is_a_clear_400(api_client, schemas, settings):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO data_customer (customer_id, points) "
            "SELECT 'x' || i, i FROM generate_series(1, 300000) i"
        )
    settings.COUNT_STATEMENT_TIMEOUT_MS = 1
    heavy = {
        "or": [
            {"field": "points", "op": "gt", "value": 5},
            {"aggregate": "count", "link": "purchases", "op": "gt", "value": 1},
        ]
    }
    response = post(api_client, "count/", {"schema": "customer", "where": heavy})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["path"] == "where" and "1 ms" in error["message"]


def test_saved_rule_audience_used_through_in_audience(api_client, schemas):
    response = api_client.post(
        "/api/audiences/", {"name": "french", "schema": "customer", "where": FRENCH}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "rule" and body["count"] == 2 and body["counted_at"]
    rule = {"and": [{"in_audience": "french"}, {"field": "points", "op": "eq", "value": 10}]}
    assert post(api_client, "count/", {"schema": "customer", "where": rule}).json()["count"] == 2
    rule = {"not": {"in_audience": "french"}}
    assert post(api_client, "count/", {"schema": "customer", "where": rule}).json()["count"] == 3
    # changing the saved rule changes every rule using it
    api_client.patch(
        "/api/audiences/french/",
        {"where": {"field": "country", "op": "eq", "value": "DE"}},
        format="json",
    )
    assert post(api_client, "count/", {"schema": "customer", "where": rule}).json()["count"] == 4
    assert LogEntry.objects.filter(object_repr="french").count() == 2


def test_cycle_reserved_names_and_var_refused(api_client, schemas):
    def create(name, where):
        return api_client.post(
            "/api/audiences/", {"name": name, "schema": "customer", "where": where}, format="json"
        )

    assert create("a", FRENCH).status_code == 201
    assert create("b", {"in_audience": "a"}).status_code == 201
    response = api_client.patch("/api/audiences/a/", {"where": {"in_audience": "b"}}, format="json")
    assert response.status_code == 400 and "cycle" in response.json()["errors"][0]["message"]
    assert create("c", {"in_audience": "c"}).status_code == 400
    for name in ["count", "preview", "distribution", "Bad-Name", "a"]:
        assert create(name, FRENCH).json()["errors"][0]["path"] == "name", name
    response = create("d", {"field": "country", "op": "eq", "var": "x"})
    assert response.status_code == 400 and response.json()["errors"][0]["path"] == "where.var"
    assert api_client.delete("/api/audiences/a/").status_code == 409  # b uses it
    assert api_client.delete("/api/audiences/b/").status_code == 204


def test_snapshots_from_rule_and_population(api_client, schemas, staff_user):
    response = api_client.post(
        "/api/audiences/",
        {"name": "frozen", "schema": "customer", "kind": "snapshot", "where": FRENCH},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["count"] == 2 and response.json()["kind"] == "snapshot"
    pop = populations.from_rule(
        schema=schemas["customer"], where={"field": "points", "op": "gte", "value": 10}
    )
    snap = services.snapshot_from_population(name="loyal", population=pop, user=staff_user)
    populations.drop(pop)  # the snapshot holds its own copy
    assert snap.count == 3 and snap.population.keep
    rule = {"and": [{"in_audience": "loyal"}, {"in_audience": "frozen"}]}
    assert post(api_client, "count/", {"schema": "customer", "where": rule}).json()["count"] == 2
    detail = api_client.get("/api/audiences/loyal/?refresh=true").json()
    assert detail["count"] == 3 and detail["where"] is None
    listed = api_client.get("/api/audiences/").json()
    assert [a["name"] for a in listed["results"]] == ["frozen", "loyal"]
    table = snap.population.table_name
    assert api_client.delete("/api/audiences/loyal/").status_code == 204
    assert not SavedAudience.objects.filter(name="loyal").exists()
    assert rule_data.sql_keys("SELECT count(*) FROM pg_class WHERE relname = %s", [table]) == [0]
