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


@pytest.mark.django_db
def test_the_index_links_the_data_and_names_the_job_queues(admin_client):
    html = admin_client.get("/admin/").content.decode()
    assert '<a href="/admin/audiences/recordimport/data/">Data</a>' in html
    assert html.index(">Schemas</a>") < html.index(">Data</a>") < html.index(">Audiences</a>")
    assert ">Job queues</a></th>" in html and "Background jobs: imports" in html  # like the rest
    assert "Django-RQ" not in html and "Django_Rq" not in html
    assert '<a href="/api/docs/">View site</a>' in html
    assert 'rel="icon" type="image/svg+xml" href="/static/favicon.svg"' in html
    assert admin_client.get("/favicon.ico")["Location"] == "/static/favicon.svg"


@pytest.mark.django_db
def test_dates_in_the_users_time_zone(admin_client, admin_user):
    import datetime

    from django.contrib.admin.models import CHANGE, LogEntry

    noon = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)
    LogEntry.objects.create(
        action_time=noon, user=admin_user, object_repr="x", action_flag=CHANGE, change_message="hi"
    )
    admin_client.cookies["tz"] = "Asia/Tokyo"
    page = admin_client.get("/admin/admin/logentry/").content.decode()
    assert "9 p.m." in page and "noon" not in page  # 12:00 UTC is 21:00 in Tokyo
    admin_client.cookies["tz"] = "Not/AZone"
    page = admin_client.get("/admin/admin/logentry/").content.decode()
    assert "noon" in page  # the TIME_ZONE setting (UTC)
