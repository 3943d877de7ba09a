"""The activity kind contract (design 9): every registered kind has its admin form, its OpenAPI
component and its ``kinds/`` entry, all derived from its one option schema; validation walks the
graph with each kind's output shapes, so ``target.ALIAS`` and fields of the wrong schema are
errors at their paths before anything runs."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from campaigns import definitions, graph, services
from campaigns.activities import options as o
from campaigns.activities import registry
from campaigns.activities.base import Check
from campaigns.admin_forms import option_fields
from campaigns.openapi import component_name
from config.access import SYSTEM

pytestmark = pytest.mark.django_db


def test_every_kind_has_an_admin_form_a_component_and_a_reference(tmp_path, staff_user):
    import yaml

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out))
    components = yaml.safe_load(out.read_text())["components"]["schemas"]
    client = APIClient()
    client.force_authenticate(staff_user)
    listed = {k["type"]: k for k in client.get("/api/kinds/").json()["kinds"]}
    for kind in registry.all():
        properties = kind.options.get("properties", {})
        fields = option_fields(kind)
        assert set(fields) == {f"option_{name}" for name in properties}, kind.type
        component = components[component_name(kind)]
        assert set(properties) <= set(component["properties"]), kind.type
        assert component["properties"]["type"]["enum"] == [kind.type]
        entry = listed[kind.type]
        assert entry["options"] == kind.options and entry["group"] in (
            "targeting",
            "flow",
            "channels",
        )
        assert entry["help"], f"{kind.type} has no help text"
        for name, prop in properties.items():
            assert "default" in prop, f"{kind.type}.{name} declares no default"
    mapping = components["CampaignDefinition"]["properties"]["activities"]["items"]
    assert len(mapping["oneOf"]) == len(registry.all())


def test_every_kind_checks_and_shapes_its_defaults_without_raising():
    for kind in registry.all():
        defaults = kind.with_defaults({})
        assert kind.type_errors(defaults, "a[0]") == []
        assert isinstance(kind.check(defaults, Check("a[0]")), list)
        assert set(kind.outputs(defaults, {})) == set(kind.ports_for(defaults))


def test_option_schema_derivations_speak_in_words():
    schema = o.options(
        mode=o.string("a", "", enum=("a", "b")),
        size=o.integer(None, "", minimum=1),
        name=o.string(None, ""),
        rows=o.array(o.obj(x=o.integer(0, "")), [], ""),
    )
    assert o.defaults(schema) == {"mode": "a", "size": None, "name": None, "rows": []}
    assert o.type_errors(schema, {"size": None, "name": None}, "p") == []  # drafts may be empty
    assert o.type_errors(schema, {"size": "3", "nope": 1, "rows": [{"x": "y"}]}, "p") == [
        {"path": "p.nope", "message": "unknown option"},
        {"path": "p.rows[0].x", "message": "must be an integer"},
        {"path": "p.size", "message": "must be an integer"},
    ]
    assert o.errors(schema, {"mode": "c", "size": 0, "name": None, "rows": []}, "p") == [
        {"path": "p.mode", "message": "must be one of a, b"},
        {"path": "p.name", "message": "a value is required"},
        {"path": "p.size", "message": "must be at least 1"},
    ]


def shaped(schema_name, rule):
    return {
        "name": "Shapes",
        "activities": [
            {"id": "aud", "type": "build_audience", "schema": schema_name},
            {"id": "score", "type": "scorer"},
            {"id": "keep", "type": "keep", "where": rule},
            {"id": "done", "type": "end"},
        ],
        "transitions": [
            {"from": "aud", "to": "score"},
            {"from": "score", "to": "keep"},
            {"from": "keep", "to": "done"},
        ],
    }


@pytest.mark.django_db(transaction=True)
def test_validation_sees_the_shape_flowing_in(schema):
    good = services.create_from_definition(
        document=shaped(schema.name, {"field": "target.score", "op": "gt", "value": 1}),
        user=SYSTEM,
    )
    assert services.validation_errors(good) == []
    shapes = graph.shapes(definitions.export(good))
    assert shapes[("score", "out")].columns == {"score": "integer"}
    for rule, message in (
        ({"field": "target.nope", "op": "gt", "value": 1}, "the population has no column 'nope'"),
        ({"field": "store.city", "op": "eq", "value": "x"}, "unknown link 'store'"),
        ({"field": "target.score", "op": "gt", "value": "x"}, "expected a integer value"),
    ):
        bad = services.create_from_definition(document=shaped(schema.name, rule), user=SYSTEM)
        errors = services.validation_errors(bad)
        assert [e["path"] for e in errors][:1] in (
            ["activities[2].where.field"],
            ["activities[2].where.value"],
        ), errors
        assert message in errors[0]["message"]


@pytest.mark.django_db(transaction=True)
def test_an_entry_rule_cannot_name_a_population_column(schema):
    document = shaped(schema.name, {"and": []})
    document["activities"][0]["where"] = {"field": "target.score", "op": "gt", "value": 1}
    campaign = services.create_from_definition(document=document, user=SYSTEM)
    errors = services.validation_errors(campaign)
    assert errors[0]["path"] == "activities[0].where.field"
    assert "only valid where a population flows in" in errors[0]["message"]
