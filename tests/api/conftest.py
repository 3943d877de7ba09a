"""Fixtures for API tests: users with chosen permissions and API clients logged in as them."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture
def publish_permission(db):
    """A custom permission ``auth.publish_group``, as apps declare in ``Meta.permissions``."""
    return Permission.objects.create(
        codename="publish_group",
        name="Can publish group",
        content_type=ContentType.objects.get_for_model(Group),
    )


@pytest.fixture
def make_user(db, django_user_model):
    """``make_user("name", "auth.view_group", ..., is_staff=True)``: a user with those perms."""
    counter = {"n": 0}

    def make(*perms, is_staff=True, is_superuser=False):
        counter["n"] += 1
        user = django_user_model.objects.create_user(
            username=f"user{counter['n']}",
            password=None,  # token or force_login: no slow password hashing
            is_staff=is_staff,
            is_superuser=is_superuser,
        )
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return user

    return make


@pytest.fixture
def client_for():
    """``client_for(user)``: an APIClient authenticated by the user's token."""

    def make(user):
        client = APIClient()
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
