"""The schemas REST API (design 5.1, 6): define one or a list, read, patch, delete; every invalid
definition answers 400 with its JSON path."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from audiences import dynamic, usage

STORE = {
    "name": "store",
    "label": "Stores",
    "primary_key": "store_id",
    "attributes": [{"name": "store_id", "type": "string"}, {"name": "city", "type": "string"}],
}
CUSTOMER = {
    "name": "customer",
    "label": "Customers",
    "primary_key": "customer_id",
    "version_field": "updated_at",
    "targeting": {"email": "email"},
    "attributes": [
        {"name": "customer_id", "type": "string", "required": True},
        {"name": "email", "type": "string", "indexed": True},
        {"name": "balance", "type": "decimal", "precision": 12, "scale": 2},
        {"name": "store_id", "type": "string"},
        {"name": "updated_at", "type": "datetime"},
    ],
    "links": [{"name": "store", "to": "store", "via": "store_id", "reverse": "customers"}],
}


@pytest.fixture
def api(db):
    client = APIClient()
    client.force_authenticate(User.objects.create_superuser("staff"))
    return client


@pytest.fixture
def defined(api):
    response = api.post("/api/schemas/", {"schemas": [CUSTOMER, STORE]}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_list_with_links_both_ways_is_created_and_read_back(api, defined):
    assert [s["name"] for s in defined["schemas"]] == ["customer", "store"]
    assert defined["schemas"][0] == CUSTOMER
    listed = api.get("/api/schemas/").json()
    assert [s["name"] for s in listed["results"]] == ["customer", "store"]
    assert listed["results"][0]["table"] == "data_customer"
    store_model = dynamic.get_model("store")
    store_model.objects.create(store_id="s1", city="Lyon")
    dynamic.get_model("customer").objects.create(customer_id="c1", store_id="s1")
    assert list(store_model.objects.filter(customers__pk="c1").values_list("city", flat=True)) == [
        "Lyon"
    ]


def test_one_schema_alone_answers_the_schema(api):
    response = api.post("/api/schemas/", STORE, format="json")
    assert response.status_code == 201
    assert response.json()["name"] == "store"
    attributes = api.get("/api/schemas/store/").json()["attributes"]
    assert attributes == [{**STORE["attributes"][0], "required": True}, STORE["attributes"][1]]
    assert api.get("/api/schemas/nope/").status_code == 404


@pytest.mark.parametrize(
    "change, path",
    [
        ({"name": "group"}, "schemas[0].name"),
        ({"name": "Customer"}, "schemas[0].name"),
        ({"primary_key": "nope"}, "schemas[0].primary_key"),
        ({"targeting": {"email": "mail"}}, "schemas[0].targeting.email"),
        ({"version_field": "email"}, "schemas[0].version_field"),
        ({"attributes": CUSTOMER["attributes"] + [{"name": "x", "type": "blob"}]},
         "schemas[0].attributes[5].type"),
        ({"attributes": CUSTOMER["attributes"] + [{"name": "email", "type": "text"}]},
         "schemas[0].attributes[5].name"),
        ({"links": [{"name": "store", "to": "shop", "via": "store_id"}]}, "schemas[0].links[0].to"),
        ({"links": [{"name": "store", "to": "store"}]}, "schemas[0].links[0].via"),
        ({"links": [{"name": "store", "to": "store", "via": "balance"}]},
         "schemas[0].links[0].via"),
        ({"links": [{"name": "store", "to": "store", "via": "store_id", "reverse": "city"}]},
         "schemas[0].links[0].reverse"),
    ],
)  # fmt: skip
def test_invalid_definitions_get_400_with_their_path_and_nothing_is_written(api, change, path):
    response = api.post(
        "/api/schemas/", {"schemas": [{**CUSTOMER, **change}, STORE]}, format="json"
    )
    assert response.status_code == 400
    assert path in [error["path"] for error in response.json()["errors"]], response.json()
    assert api.get("/api/schemas/").json()["count"] == 0


def test_a_name_taken_already_is_refused(api, defined):
    response = api.post("/api/schemas/", STORE, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "name"


def test_patch_adds_an_attribute_and_a_link_and_keeps_the_data(api, defined):
    dynamic.get_model("customer").objects.create(customer_id="c1", email="a@x.fr")
    response = api.patch(
        "/api/schemas/store/",
        {
            "attributes": [
                {"name": "opened_on", "type": "date"},
                {"name": "manager_id", "type": "string"},
            ],
            "links": [{"name": "manager", "to": "customer", "via": "manager_id"}],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert [a["name"] for a in response.json()["attributes"]][-2:] == ["opened_on", "manager_id"]
    dynamic.get_model("store").objects.create(store_id="s9", manager_id="c1")
    assert dynamic.get_model("store").objects.get(manager__email="a@x.fr").pk == "s9"
    assert dynamic.get_model("customer").objects.get().email == "a@x.fr"


def test_patch_errors_have_paths(api, defined):
    response = api.patch(
        "/api/schemas/store/",
        {"attributes": [{"name": "customers", "type": "string"}], "primary_key": "city"},
        format="json",
    )
    assert response.status_code == 400
    paths = {error["path"] for error in response.json()["errors"]}
    assert paths == {"attributes[0].name", "primary_key"}


def test_delete_needs_confirm_and_is_refused_while_used(api, defined):
    assert api.delete("/api/schemas/store/?confirm=true").status_code == 409
    assert "customer.store" in api.delete("/api/schemas/store/?confirm=true").json()["detail"]
    response = api.delete("/api/schemas/customer/attributes/balance/")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "confirm"
    assert api.delete("/api/schemas/customer/attributes/balance/?confirm=true").status_code == 204
    assert "balance" not in [
        a["name"] for a in api.get("/api/schemas/customer/").json()["attributes"]
    ]
    assert api.delete("/api/schemas/customer/attributes/store_id/?confirm=true").status_code == 409
    assert api.delete("/api/schemas/customer/?confirm=true").status_code == 204
    assert api.delete("/api/schemas/store/?confirm=true").status_code == 204
    assert api.get("/api/schemas/").json()["count"] == 0


def test_registered_users_block_removal_and_are_named(api, defined):
    def saved_audience_users(schema_name, attribute_name=None):
        if schema_name == "customer" and attribute_name in (None, "balance"):
            return ["saved audience 'big spenders'"]
        return []

    usage.register(saved_audience_users)
    try:
        response = api.delete("/api/schemas/customer/attributes/balance/?confirm=true")
        assert response.status_code == 409
        assert "big spenders" in response.json()["detail"]
        assert api.delete("/api/schemas/customer/?confirm=true").status_code == 409
        assert api.delete("/api/schemas/customer/attributes/email/?confirm=true").status_code == 409
    finally:
        usage.unregister(saved_audience_users)
    assert api.delete("/api/schemas/customer/attributes/balance/?confirm=true").status_code == 204


def test_staff_only(db):
    client = APIClient()
    client.force_authenticate(User.objects.create_user("someone"))
    assert client.get("/api/schemas/").status_code == 403


def test_links_in_both_directions_inside_one_list(api):
    store = dict(STORE, attributes=STORE["attributes"] + [{"name": "manager_id", "type": "string"}])
    store["links"] = [
        {"name": "manager", "to": "customer", "via": "manager_id", "reverse": "managed"}
    ]
    response = api.post("/api/schemas/", {"schemas": [store, CUSTOMER]}, format="json")
    assert response.status_code == 201, response.json()
    customer_model, store_model = dynamic.get_model("customer"), dynamic.get_model("store")
    customer_model.objects.create(customer_id="c1", store_id="s1")
    store_model.objects.create(store_id="s1", manager_id="c1")
    assert customer_model.objects.filter(managed__customers__pk="c1").count() == 1


def test_patch_changes_settings_and_adds_an_index(api, defined):
    response = api.patch(
        "/api/schemas/customer/",
        {
            "label": "People",
            "targeting": {"email": "email", "sms": "phone"},
            "attributes": [
                {"name": "phone", "type": "string"},
                {
                    "name": "balance",
                    "type": "decimal",
                    "precision": 12,
                    "scale": 2,
                    "indexed": True,
                },
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["label"] == "People" and body["targeting"]["sms"] == "phone"
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'data_customer'")
        assert any("(balance)" in row[0] for row in cursor.fetchall())


def test_a_schema_read_back_can_be_patched_back_unchanged(api, defined):
    document = api.get("/api/schemas/customer/").json()
    assert document["table"] == "data_customer"
    response = api.patch("/api/schemas/customer/", document, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["attributes"] == document["attributes"] == CUSTOMER["attributes"]


def test_deleting_a_link_keeps_its_via_attribute_and_values(api, defined):
    dynamic.get_model("store").objects.create(store_id="s1")
    dynamic.get_model("customer").objects.create(customer_id="c1", store_id="s1")
    assert api.delete("/api/schemas/customer/links/store/").status_code == 400

    def rule_users(schema_name, attribute_name=None):
        return ["saved audience 'by store'"] if attribute_name == "customers" else []

    usage.register(rule_users)
    try:
        response = api.delete("/api/schemas/customer/links/store/?confirm=true")
        assert response.status_code == 409 and "by store" in response.json()["detail"]
    finally:
        usage.unregister(rule_users)
    assert api.delete("/api/schemas/customer/links/store/?confirm=true").status_code == 204
    assert dynamic.get_model("customer").objects.get().store_id == "s1"
    assert api.get("/api/schemas/customer/").json()["links"] == []
    assert api.delete("/api/schemas/store/?confirm=true").status_code == 204


def test_estimated_records_is_a_real_figure(api, defined):
    """Exact under ``EXACT_BELOW`` rows (even before any ANALYZE, when the planner knows
    nothing), the planner's estimate above it once the table was analyzed."""
    from audiences.ddl import EXACT_BELOW

    def estimated(name):
        return api.get(f"/api/schemas/{name}/").json()["estimated_records"]

    assert estimated("store") == 0
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO data_store (store_id, city) SELECT 's' || i, 'Lyon' "
            "FROM generate_series(1, 25) AS i"
        )
    assert estimated("store") == 25
    assert api.get("/api/schemas/").json()["results"][1]["estimated_records"] == 25
    big = EXACT_BELOW + 2000
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO data_customer (customer_id) SELECT 'c' || i "
            f"FROM generate_series(1, {big}) AS i"
        )
        cursor.execute("ANALYZE data_customer")
    assert estimated("customer") == big
