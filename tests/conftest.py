"""Fixtures shared by every test folder. Area-specific fixtures live in tests/<area>/conftest.py.

- ``staff_user``: a staff superuser (``staff`` / ``pw``), who passes every API permission check;
- ``api_client``: a DRF ``APIClient`` force-authenticated as ``staff_user``.
"""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def staff_user(db, django_user_model):
    return django_user_model.objects.create_superuser(
        username="staff", email="staff@example.com", password="pw"
    )


@pytest.fixture
def api_client(staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    return client


def grant(user, *perms):
    """Give ``user`` the permissions named ``app_label.codename``; returns the user."""
    from django.contrib.auth.models import Permission

    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    return user


RECORD_PERMISSIONS = (
    "audiences.view_records",
    "audiences.change_records",
    "audiences.view_recordimport",
)


def staff_with(*perms, name="someone"):
    """A staff user (not a superuser) holding exactly ``perms`` (``app_label.codename``)."""
    from django.contrib.auth.models import User

    return grant(User.objects.create_user(name, password=None, is_staff=True), *filter(None, perms))


def token_client(user):
    """A DRF APIClient authenticated by ``user``'s token, as a REST client would be."""
    from rest_framework.authtoken.models import Token

    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def roles(db):
    """The six role groups (``campaigns.roles``) by name. The data migration made them, but a
    transactional test's flush empties the tables: fill them again (idempotent)."""
    from django.apps import apps
    from django.contrib.auth.models import Group

    from campaigns import roles as role_table

    role_table.fill(apps)
    return {group.name: group for group in Group.objects.filter(name__in=role_table.ROLES)}


def member_of(role, name, group=None, password=None):
    """A staff user (not a superuser) whose only permissions come from the group ``role``."""
    from django.contrib.auth.models import User

    user = User.objects.create_user(name, password=password, is_staff=True)
    user.groups.add(role)
    if group is not None:
        user.groups.add(group)
    return user
