"""StaffModelPermissions: staff only, model permissions per method, named permissions per action."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

pytestmark = [pytest.mark.urls("tests.api.urls"), pytest.mark.django_db]


def test_anonymous_gets_401_with_token_challenge():
    response = APIClient().get("/api/groups/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_bad_token_gets_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    response = client.get("/api/groups/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_non_staff_gets_403_even_with_permissions(make_user, client_for):
    user = make_user("auth.view_group", is_staff=False)
    response = client_for(user).get("/api/groups/")
    assert response.status_code == 403
    assert response.json() == {"detail": "The API is for staff only."}


def test_session_authentication_works(make_user):
    client = APIClient()
    client.force_login(make_user("auth.view_group"))
    assert client.get("/api/groups/").status_code == 200


@pytest.mark.parametrize(
    ("method", "url", "body", "perm", "label"),
    [
        ("get", "/api/groups/", None, "auth.view_group", "Listing"),
        ("get", "/api/groups/{pk}/", None, "auth.view_group", "Reading"),
        ("post", "/api/groups/", {"name": "new"}, "auth.add_group", "Creating"),
        ("patch", "/api/groups/{pk}/", {"name": "x"}, "auth.change_group", "Changing"),
        ("put", "/api/groups/{pk}/", {"name": "x"}, "auth.change_group", "Changing"),
        ("delete", "/api/groups/{pk}/", None, "auth.delete_group", "Deleting"),
        ("post", "/api/groups/count/", {}, "auth.view_group", "Counting"),
    ],
)
def test_model_permission_per_method(make_user, client_for, method, url, body, perm, label):
    group = Group.objects.create(name="g")
    url = url.format(pk=group.pk)
    refused = getattr(client_for(make_user()), method)(url, body, format="json")
    assert refused.status_code == 403
    assert refused.json() == {"detail": f"{label} needs {perm}"}
    allowed = getattr(client_for(make_user(perm)), method)(url, body, format="json")
    assert allowed.status_code in (200, 201, 204), allowed.content


def test_custom_action_needs_view_and_its_named_permission(
    make_user, client_for, publish_permission
):
    """An action (publish...) needs only to see the object, plus its own named permission: the
    service behind it enforces the lifecycle table's, whatever calls it."""
    group = Group.objects.create(name="g")
    url = f"/api/groups/{group.pk}/publish/"
    only_custom = client_for(make_user("auth.publish_group")).post(url)
    assert only_custom.status_code == 403
    assert only_custom.json() == {"detail": "Publishing needs auth.view_group"}
    only_view = client_for(make_user("auth.view_group")).post(url)
    assert only_view.status_code == 403
    assert only_view.json() == {"detail": "Publishing needs auth.publish_group"}
    both = client_for(make_user("auth.view_group", "auth.publish_group")).post(url)
    assert both.status_code == 200
    assert both.json() == {"published": group.pk}


def test_named_permission_by_http_method_on_plain_view(make_user, client_for, publish_permission):
    body = {"name": "doc"}
    refused = client_for(make_user()).post("/api/documents/", body, format="json")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Sending a document needs auth.publish_group"}
    allowed = client_for(make_user("auth.publish_group")).post("/api/documents/", body)
    assert allowed.status_code == 200


def test_permissions_come_through_groups(make_user, client_for):
    from django.contrib.auth.models import Permission

    user = make_user()
    team = Group.objects.create(name="marketers")
    team.permissions.add(Permission.objects.get(codename="view_group"))
    user.groups.add(team)
    assert client_for(user).get("/api/groups/").status_code == 200


def test_superuser_passes_everything(make_user, client_for, publish_permission):
    group = Group.objects.create(name="g")
    client = client_for(make_user(is_superuser=True))
    assert client.get("/api/groups/").status_code == 200
    assert client.post(f"/api/groups/{group.pk}/publish/").status_code == 200
    assert client.delete(f"/api/groups/{group.pk}/").status_code == 204


def test_list_is_paginated_by_page_number(make_user, client_for):
    Group.objects.all().delete()  # the roles the migration made
    Group.objects.bulk_create(Group(name=f"g{i}") for i in range(5))
    client = client_for(make_user("auth.view_group"))
    page = client.get("/api/groups/?page=2&page_size=2").json()
    assert page["count"] == 5
    assert [g["name"] for g in page["results"]] == ["g2", "g3"]
    assert page["next"].endswith("page=3&page_size=2")


def test_permission_model_on_a_view_without_queryset(make_user, client_for):
    refused = client_for(make_user()).get("/api/group-names/")
    assert refused.json() == {"detail": "Reading needs auth.view_group"}
    assert client_for(make_user("auth.view_group")).get("/api/group-names/").status_code == 200


def test_plain_view_without_model_needs_only_staff(make_user, client_for):
    assert client_for(make_user()).get("/api/errors/").json() == {"ok": True}
