"""The general guards of design 5.0 ("never a 500"), on every route of the real URLconf: a new
endpoint is covered by these tests without being named in them.

Causes of 500 measured before (issue 9) and the test that now covers each:
1. non-numeric path ids: ``test_every_route_answers_bad_path_values_without_a_5xx``;
2. ``runs/?campaign=null``: ``tests/api/test_limits.py::test_bad_filters_are_400_at_their_parameter``;
3. OPTIONS on APIViews without a serializer: ``test_options_works_on_every_api_route``;
4. bad ``offset``/``limit`` (now ``page``/``page_size``): ``tests/api/test_limits.py::
   test_every_list_refuses_bad_page_numbers_at_their_path``;
5. NUL bytes (and lone surrogates): ``test_nul_and_lone_surrogates_are_refused_at_their_path``
   and the query / URL / form tests below;
6. names longer than their column: ``tests/api/test_limits.py::test_strings_longer_than_their_column_are_400_at_their_path``;
7. deep rules and deep bodies: ``test_a_body_nested_2000_deep_is_a_400`` and
   ``tests/api/test_limits.py::test_rules_nest_at_most_64_levels``.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.views import APIView

from config.api import parsers
from tests.audiences import rule_data

pytestmark = pytest.mark.django_db
BAD_VALUES = ("abc", "%00", "9" * 25, "-1", "x" * 300)
GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>")


def routes(resolver=None, prefix=""):
    """Every (route text, pattern) of the URLconf; route text joins path() and regex parts."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        text = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
        if isinstance(pattern, URLResolver):
            yield from routes(pattern, text)
        elif isinstance(pattern, URLPattern):
            yield text, pattern


def with_parameters():
    return [(text, p) for text, p in routes() if GROUP.search(text) and "format" not in text]


def fill(text, value):
    return "/" + GROUP.sub(value, text).replace("\\.", ".").replace("\\", "")


@pytest.fixture
def client(staff_user):
    client = APIClient(raise_request_exception=False)
    client.force_login(staff_user)
    return client


def test_the_walk_finds_the_routes_that_take_values():
    found = {text for text, _p in with_parameters()}
    assert "api/schemas/<str:name>/" in found
    assert any(t.startswith("api/campaigns/(?P<pk>") for t in found)
    assert any(t.startswith("admin/campaigns/campaign/") for t in found)


@pytest.mark.parametrize("value", BAD_VALUES)
def test_every_route_answers_bad_path_values_without_a_5xx(client, value):
    """Ids that are not numbers, NUL, huge or negative numbers, very long names: 400 or 404
    (or a redirect in the admin), on the API and the admin, whatever the method."""
    for text, _pattern in with_parameters():
        url = fill(text, value)
        for method in ("get", "post", "put", "patch", "delete", "options"):
            response = getattr(client, method)(url, {}, format="json")
            assert response.status_code < 500, (method, url, response.status_code)
            if url.startswith("/api/"):
                assert response["Content-Type"].startswith("application/json"), url


def test_options_works_on_every_api_route(client):
    for text, _pattern in routes():
        if not text.startswith("api/") or "format" in text:
            continue
        url = fill(text, "1")
        response = client.options(url)
        assert response.status_code in (200, 404), (url, response.status_code)
        if response.status_code == 200:
            assert "OPTIONS" in response["Allow"], url
        if response["Content-Type"].startswith("application/json"):
            assert response.json()["name"], url
    assert client.options("/api/schemas/").json()["parses"][0] == "application/json"
    assert client.options("/api/audiences/count/").status_code == 200


def test_every_api_view_parses_bodies_with_the_guarded_parsers():
    guarded = (parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser)
    for text, pattern in routes():
        view = getattr(pattern.callback, "cls", None)
        if text.startswith("api/") and view is not None and issubclass(view, APIView):
            for parser in view.parser_classes:
                assert issubclass(parser, guarded), (text, parser)


def test_a_body_nested_2000_deep_is_a_400(client):
    for body, depth in (("[" * 2000 + "]" * 2000, 2000), ('{"a":' * 129 + "1" + "}" * 129, 129)):
        response = client.post("/api/campaigns/", body, content_type="application/json")
        assert response.status_code == 400, depth
        [error] = response.json()["errors"]
        assert error == {
            "path": "",
            "message": f"nested {depth} levels deep; at most 128 are accepted",
        }
    nested = {"name": "deep", "description": "", "variables": []}
    inner = nested
    for _ in range(120):
        inner["schedule"] = {}
        inner = inner["schedule"]
    response = client.post("/api/campaigns/", nested, format="json")  # 122 deep: parsed
    assert response.status_code == 201, response.json()


def test_nul_and_lone_surrogates_are_refused_at_their_path(client):
    body = '{"name": "ok", "activities": [{"id": "a", "type": "fork", "label": "x\\u0000"}]}'
    response = client.post("/api/campaigns/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "activities[0].label", "message": "must not contain NUL (\\u0000) characters"}
    ]
    response = client.post(
        "/api/campaigns/", '{"name": "\\ud800 broken"}', content_type="application/json"
    )
    assert response.json()["errors"][0]["path"] == "name"
    assert "lone surrogate" in response.json()["errors"][0]["message"]
    pair = client.post(
        "/api/campaigns/", '{"name": "\\ud83d\\ude00 fine"}', content_type="application/json"
    )
    assert pair.status_code == 201, pair.json()
    key = client.post(
        "/api/campaigns/", '{"name": "k", "x\\u0000": 1}', content_type="application/json"
    )
    assert key.json()["errors"] == [
        {"path": "", "message": "a key must not contain NUL (\\u0000) characters"}
    ]


def test_nul_in_query_parameters_and_url_values_is_a_400_at_the_parameter(client):
    rule_data.load()
    response = client.get("/api/tasks/?status=%00")
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "status"
    response = client.get("/api/schemas/a%00b/")
    assert response.status_code == 400 and response.json()["errors"][0]["path"] == "name"
    where = '{"field": "country", "op": "eq", "value": "F\\u0000R"}'
    response = client.get("/api/schemas/customer/records/", {"where": where})
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "where.value"
    response = client.get("/api/schemas/customer/records/", {"where": "[" * 3000})
    assert response.status_code == 400 and response.json()["errors"][0]["path"] == "where"
    page = client.get("/admin/campaigns/campaign/?q=%00")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/plain")


def test_nul_in_a_form_field_is_a_400_at_the_field(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    rule_data.load()
    upload = SimpleUploadedFile("people.csv", b"customer_id\nc1\n", content_type="text/csv")
    response = client.post(
        "/api/schemas/customer/imports/", {"file": upload, "mode": "up\x00sert"}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "mode", "message": "must not contain NUL (\\u0000) characters"}
    ]


def test_a_value_the_database_refuses_is_a_400_not_a_500(client, monkeypatch, caplog):
    """The last line of defence: a check missing at its path still gives a 400, logged."""
    from campaigns import definitions

    monkeypatch.setattr(definitions, "_fits", lambda *args: None)
    response = client.post("/api/campaigns/", {"name": "n" * 201}, format="json")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["path"] == "" and error["message"].startswith("a value cannot be stored")
    assert "Unchecked value reached the database" in caplog.text


def test_an_admin_json_box_refuses_deep_and_nul_json(client, staff_user):
    from config.forms import JSONField

    field = JSONField()
    for text in ("[" * 2000 + "]" * 2000, '{"a": "\\u0000"}'):
        with pytest.raises(Exception) as caught:
            field.clean(text)
        assert type(caught.value).__name__ == "ValidationError"
    assert field.clean('{"a": [1]}') == {"a": [1]}


def test_nesting_is_measured_on_the_text_without_parsing_it():
    from config.inputs import nesting_depth

    assert nesting_depth('{"a": [1, {"b": "[[[[{{"}], "c": "]]]"}') == 3
    assert nesting_depth('["a\\"]]]", ["b\\\\"]]') == 2  # escaped quotes stay inside strings
    assert nesting_depth('[[["unterminated [[[[') == 3
    assert nesting_depth("[" * 5000) == 5000
    assert nesting_depth('"\\"' * 100_000) == 0  # no backtracking on a pathological text


def test_every_admin_json_box_is_the_guarded_field(rf, staff_user):
    """The override must be in place before the admin's autodiscovery registers the ModelAdmins
    (each copies the defaults then): every model JSONField of every admin gets config.forms'."""
    from django.contrib import admin
    from django.db import models

    from config.forms import JSONField

    request = rf.get("/")
    request.user = staff_user
    seen = 0
    for model, model_admin in admin.site._registry.items():
        for field in model._meta.fields:
            if isinstance(field, models.JSONField):
                form_field = model_admin.formfield_for_dbfield(field, request)
                assert isinstance(form_field, JSONField), f"{model.__name__}.{field.name}"
                assert form_field.prepare_value(None) == ""
                seen += 1
    assert seen
