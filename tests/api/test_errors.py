"""The design 5.0 error format, for every kind of error an endpoint can give."""

import logging

import pytest
from django.contrib.auth.models import Group

from config.api.errors import flatten

pytestmark = [pytest.mark.urls("tests.api.urls"), pytest.mark.django_db]


@pytest.fixture
def client(make_user, client_for):
    return client_for(make_user(is_superuser=True))


def test_serializer_errors_get_nested_paths(client):
    document = {
        "name": "much too long",
        "records": [
            {"email": "a@x.org"},
            {"email": "b@x.org"},
            {"email": "c@x.org"},
            {"email": "d"},
        ],
        "activities": [
            {"id": "a"},
            {"id": "b"},
            {"id": "c", "where": {"and": [{"field": "name"}, {"field": "shoe_size"}]}},
            {},
        ],
        "scores": [1, "x", 3],
    }
    response = client.post("/api/documents/", document, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"path": "name", "message": "Ensure this field has no more than 10 characters."},
            {"path": "records[3].email", "message": "Enter a valid email address."},
            {"path": "activities[2].where.and[1].field", "message": "Unknown field."},
            {"path": "activities[3].id", "message": "This field is required."},
            {"path": "scores[1]", "message": "A valid integer is required."},
        ]
    }


def test_document_level_errors_have_the_empty_path(client):
    response = client.post("/api/documents/", {"name": "forbidden"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"errors": [{"path": "", "message": "This name is reserved."}]}


def test_unparseable_json_is_a_400_at_the_root(client):
    response = client.post("/api/documents/", data='{"name": ', content_type="application/json")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["path"] == ""
    assert error["message"].startswith("JSON parse error")


def test_validation_failed_passes_its_errors_through(client):
    response = client.get("/api/errors/?kind=validation")
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"path": "activities[0].wait", "message": "Bad duration."}]
    }


def test_conflict_is_409_with_detail(client):
    response = client.get("/api/errors/?kind=conflict")
    assert response.status_code == 409
    assert response.json() == {"detail": "Only a draft can be changed."}


def test_conflict_raised_by_an_action(client):
    group = Group.objects.create(name="published already")
    response = client.post(f"/api/groups/{group.pk}/publish/")
    assert response.status_code == 409
    assert response.json() == {"detail": "This group is already published."}


def test_too_soon_is_429_with_retry_after(client):
    response = client.get("/api/errors/?kind=too_soon")
    assert response.status_code == 429
    assert response.json() == {"detail": "Triggered less than 60 s ago."}
    assert response["Retry-After"] == "42"


def test_not_found_is_404_with_detail(client):
    assert client.get("/api/errors/?kind=missing").json() == {"detail": "No such thing."}
    response = client.get("/api/groups/999999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No Group matches the given query."}


def test_wrong_method_is_405_with_detail(client):
    response = client.delete("/api/documents/")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.'}


def test_unexpected_exception_is_a_logged_json_500(client, caplog):
    with caplog.at_level(logging.ERROR, logger="config.api"):
        response = client.get("/api/errors/?kind=crash")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Internal error"}
    [record] = [r for r in caplog.records if r.name == "config.api"]
    assert "ErrorsView" in record.getMessage()
    assert record.exc_info[0] is RuntimeError


def test_flatten_keeps_error_lists_and_prefixes_them():
    nested = {"activities": [{}, {"errors": [{"path": "wait", "message": "Bad."}]}]}
    assert flatten(nested) == [{"path": "activities[1].wait", "message": "Bad."}]
    assert flatten({"non_field_errors": ["Whole."], "a": {"b": ["B."]}}) == [
        {"path": "", "message": "Whole."},
        {"path": "a.b", "message": "B."},
    ]
    assert flatten({"errors": ["a plain field named errors"]}) == [
        {"path": "errors", "message": "a plain field named errors"}
    ]
