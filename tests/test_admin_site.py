"""The product's admin site: titles, intro and shortcuts to what is registered."""

import pytest

from config.admin_site import shortcuts


@pytest.mark.django_db
def test_admin_index_is_titled_for_the_product(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Campaign back-office | Orchestrated campaigns</title>" in html
    assert 'id="product-intro"' in html
    assert "Authentication and Authorization" in html  # the usual app list stays below


def test_shortcuts_link_only_what_is_registered_and_visible():
    app_list = [
        {
            "app_label": "campaigns",
            "models": [
                {"object_name": "Run", "admin_url": "/admin/campaigns/run/"},
                {"object_name": "Campaign", "admin_url": None},  # no view permission
            ],
        },
        {
            "app_label": "audiences",
            "models": [{"object_name": "Schema", "admin_url": "/admin/audiences/schema/"}],
        },
    ]
    assert [(s["title"], s["url"]) for s in shortcuts(app_list)] == [
        ("Schemas", "/admin/audiences/schema/"),
        ("Runs", "/admin/campaigns/run/"),
    ]
