"""Validation of schema definitions (design 5.0 names, 5.1 documents): every kind of error has
its JSON path, and a valid list with links both ways resolves."""

import pytest
from django.db import connection

from audiences.identifiers import POSTGRES_RESERVED, identifier_error
from audiences.schema_definitions import resolve_create
from config.errors import ValidationFailed

STORE = {
    "name": "store",
    "primary_key": "store_id",
    "attributes": [{"name": "store_id", "type": "string"}, {"name": "city", "type": "string"}],
}


def customer(**changes):
    document = {
        "name": "customer",
        "primary_key": "customer_id",
        "version_field": "updated_at",
        "targeting": {"email": "email"},
        "attributes": [
            {"name": "customer_id", "type": "string"},
            {"name": "email", "type": "string", "indexed": True},
            {"name": "balance", "type": "decimal", "precision": 12, "scale": 2},
            {"name": "store_id", "type": "string"},
            {"name": "updated_at", "type": "datetime"},
        ],
        "links": [{"name": "store", "to": "store", "via": "store_id", "reverse": "customers"}],
    }
    document.update(changes)
    return document


def errors_of(document):
    with pytest.raises(ValidationFailed) as caught:
        resolve_create(document)
    return {error["path"]: error["message"] for error in caught.value.errors}


@pytest.mark.parametrize(
    "name", ["Customer", "1st", "a__b", "a_", "x" * 41, "select", "user", "pk", "objects", "save"]
)
def test_bad_and_reserved_names_are_refused(name):
    assert identifier_error(name)


@pytest.mark.parametrize("name", ["customer", "loyalty_points", "a1_b2", "x" * 40])
def test_good_names_pass(name):
    assert identifier_error(name) is None


@pytest.mark.django_db
def test_shipped_keywords_cover_the_servers_reserved_keywords():
    with connection.cursor() as cursor:
        cursor.execute("SELECT word FROM pg_get_keywords() WHERE catcode = 'R'")
        server = {row[0] for row in cursor.fetchall()}
    assert server <= POSTGRES_RESERVED
    assert len(POSTGRES_RESERVED - server) <= 1  # system_user, reserved from PostgreSQL 16 on


@pytest.mark.django_db
def test_a_list_with_links_both_ways_resolves():
    specs = resolve_create({"schemas": [customer(), STORE]})
    assert [spec.name for spec in specs] == ["customer", "store"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes, path, words",
    [
        ({"name": "Select"}, "schemas[0].name", "lowercase"),
        ({"name": "order"}, "schemas[0].name", "reserved"),
        ({"primary_key": "nope"}, "schemas[0].primary_key", "no attribute"),
        ({"version_field": "email"}, "schemas[0].version_field", "datetime"),
        ({"targeting": {"email": "missing"}}, "schemas[0].targeting.email", "no attribute"),
        ({"targeting": {"fax": "email"}}, "schemas[0].targeting.fax", "unknown channel"),
        ({"colour": 1}, "schemas[0].colour", "unknown field"),
        ({"attributes": []}, "schemas[0].attributes", "non-empty"),
    ],
)
def test_bad_schema_fields_have_their_path(changes, path, words):
    errors = errors_of({"schemas": [customer(**changes), STORE]})
    assert words in errors[path]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "attribute, path, words",
    [
        ({"name": "x", "type": "money"}, "type", "unknown type"),
        ({"name": "x", "type": "decimal", "precision": 2, "scale": 3}, "scale", "precision"),
        ({"name": "x", "type": "decimal", "precision": 0}, "precision", "from 1"),
        ({"name": "x", "type": "string", "scale": 2}, "scale", "only decimal"),
        ({"name": "x", "type": "string", "enum": []}, "enum", "non-empty"),
        ({"name": "x", "type": "string", "indexed": "yes"}, "indexed", "true or false"),
        ({"name": "email", "type": "string"}, "name", "already used"),
        ({"name": "customers", "type": "string"}, "name", "already used"),
        ({"name": "Bad", "type": "string"}, "name", "lowercase"),
        ({"name": "id", "type": "integer"}, "name", "primary key"),
    ],
)
def test_bad_attributes_have_their_path(attribute, path, words):
    document = customer()
    document["attributes"] = document["attributes"] + [attribute]
    document["links"] = []
    store = dict(STORE, links=[{"name": "customers", "to": "customer", "via": "city"}])
    if attribute["name"] != "customers":
        store = STORE
    else:  # a reverse link from store named "customers" on customer clashes with the attribute
        store = dict(STORE, links=[])
        document["links"] = []
        store["links"] = [
            {"name": "manager", "to": "customer", "via": "city", "reverse": "customers"}
        ]
    errors = errors_of({"schemas": [document, store]})
    if attribute["name"] == "customers":
        assert "already used" in errors["schemas[1].links[0].reverse"]
    else:
        assert words in errors[f"schemas[0].attributes[5].{path}"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "link, path, words",
    [
        ({"name": "store", "to": "shop", "via": "store_id"}, "to", "no schema"),
        ({"name": "store", "to": "store", "via": "shop_id"}, "via", "no attribute"),
        ({"name": "store", "to": "store", "via": "balance"}, "via", "decimal but"),
        ({"name": "store", "to": "store", "via": "customer_id"}, "via", "primary key"),
        ({"name": "email", "to": "store", "via": "store_id"}, "name", "already used"),
        ({"name": "store", "to": "store"}, "via", "is required"),
        ({"name": "store", "to": "store", "via": "store_id", "reverse": "city"}, "reverse", "used"),
    ],
)
def test_bad_links_have_their_path(link, path, words):
    errors = errors_of({"schemas": [customer(links=[link]), STORE]})
    assert words in errors[f"schemas[0].links[0].{path}"], errors


@pytest.mark.django_db
def test_one_schema_alone_has_paths_without_prefix_and_duplicates_in_a_list_are_refused():
    assert "no schema" in errors_of(customer())["links[0].to"]
    errors = errors_of({"schemas": [STORE, STORE]})
    assert "twice" in errors["schemas[1].name"]
    assert errors_of([1]) == {"": 'must be a schema object or {"schemas": [...]}'}
