"""The API base on the project's real URLconf: OpenAPI validity, docs, anonymous access, 404s."""

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import Client
from rest_framework.test import APIClient


def test_openapi_schema_validates_without_warnings(tmp_path):
    """Every endpoint any app adds must keep ``spectacular --validate --fail-on-warn`` passing."""
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi: 3")


@pytest.mark.django_db
def test_schema_and_docs_are_staff_only(django_user_model):
    assert APIClient().get("/api/schema/").status_code == 401
    client = APIClient()
    client.force_login(django_user_model.objects.create_user("s", is_staff=True))
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


@pytest.mark.django_db
def test_unknown_api_path_is_a_json_404():
    response = APIClient().get("/api/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_unknown_page_elsewhere_stays_html():
    response = APIClient().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db(transaction=True)
def test_errors_outside_drf_views_are_json_500_under_api():
    """The database down: middleware fails before any view; /api/ still answers in JSON."""
    client = Client(raise_request_exception=False)
    connection = connections["default"]
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"
    try:
        api = client.get("/api/schemas/")
        page = client.get("/admin/")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert api.status_code == 500
    assert api.json() == {"detail": "Internal error"}
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")
