"""The schema admin saves through the schema service: tables are created and altered, the design
5.1 checks show on the rows they concern, deletions are refused while something uses the schema."""

import pytest
from django.contrib.auth.models import User

from audiences import dynamic
from audiences.models import Schema
from audiences.services.schemas import create_schemas

STORE = {
    "name": "store",
    "primary_key": "store_id",
    "attributes": [{"name": "store_id", "type": "string"}, {"name": "city", "type": "string"}],
}


def management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def customer_post(via="store_id"):
    data = {"name": "customer", "label": "Customers", "primary_key": "customer_id"}
    data.update(version_field="", targeting='{"email": "email"}')
    data.update(management("attributes", 3) | management("links", 1))
    for i, (name, kind) in enumerate(
        [("customer_id", "string"), ("email", "string"), ("store_id", "string")]
    ):
        data[f"attributes-{i}-name"], data[f"attributes-{i}-type"] = name, kind
    data.update({"links-0-name": "store", "links-0-via": via, "links-0-reverse": "customers"})
    data["links-0-to"] = str(Schema.objects.get(name="store").pk)
    return data


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("boss"))
    create_schemas(document=STORE)
    return client


def test_adding_a_schema_with_inlines_creates_its_table(admin_client):
    assert admin_client.get("/admin/audiences/schema/add/").status_code == 200
    response = admin_client.post("/admin/audiences/schema/add/", customer_post())
    assert response.status_code == 302, response.content.decode()[:3000]
    customer = dynamic.get_model("customer")
    customer.objects.create(customer_id="c1", email="a@b.c", store_id=None)
    assert customer.objects.get().email == "a@b.c"
    assert Schema.objects.get(name="customer").links.get().reverse == "customers"
    listing = admin_client.get("/admin/audiences/schema/?q=cust").content.decode()
    assert "Customers" in listing and "email" in listing


def test_definition_errors_show_on_their_row_and_nothing_is_written(admin_client):
    response = admin_client.post("/admin/audiences/schema/add/", customer_post(via="shop"))
    assert response.status_code == 200
    assert "no attribute named &#x27;shop&#x27;" in response.content.decode()
    assert not Schema.objects.filter(name="customer").exists()


def test_changing_a_schema_alters_its_table_and_deleting_is_refused_while_linked(admin_client):
    admin_client.post("/admin/audiences/schema/add/", customer_post())
    store = Schema.objects.get(name="store")
    data = {"label": "Shops", "version_field": "", "targeting": "{}"}
    data.update(management("attributes", 3, initial=2) | management("links", 0))
    for i, attribute in enumerate(store.attributes.all()):
        data[f"attributes-{i}-id"], data[f"attributes-{i}-schema"] = attribute.pk, store.pk
        data[f"attributes-{i}-name"], data[f"attributes-{i}-type"] = attribute.name, "string"
    data["attributes-0-required"] = "on"
    data["attributes-2-name"], data["attributes-2-type"] = "opened", "date"
    url = f"/admin/audiences/schema/{store.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "holding the linked schema" in page and "converts its values" in page
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    fields = [f.name for f in dynamic.get_model("store")._meta.fields]
    assert fields == ["store_id", "city", "opened"]
    response = admin_client.post(f"/admin/audiences/schema/{store.pk}/delete/", {"post": "yes"})
    assert Schema.objects.filter(name="store").exists()


def store_change(store, **types):
    data = {"label": "Stores", "version_field": "", "targeting": "{}"}
    data.update(management("attributes", 2, initial=2) | management("links", 0))
    for i, attribute in enumerate(store.attributes.all()):
        data[f"attributes-{i}-id"], data[f"attributes-{i}-schema"] = attribute.pk, store.pk
        data[f"attributes-{i}-name"] = attribute.name
        data[f"attributes-{i}-type"] = types.get(attribute.name, "string")
    return data


def test_database_refusals_come_back_as_messages_and_change_nothing(admin_client):
    dynamic.get_model("store").objects.create(store_id="s1", city="Lyon")
    store = Schema.objects.get(name="store")
    url = f"/admin/audiences/schema/{store.pk}/change/"
    response = admin_client.post(url, store_change(store, city="integer"), follow=True)
    page = response.content.decode()
    assert "do not convert" in page and "&#x27;Lyon&#x27;" in page
    assert store.attributes.get(name="city").type == "string"


def test_deleting_an_attribute_and_an_unused_schema(admin_client):
    store = Schema.objects.get(name="store")
    data = store_change(store)
    data["attributes-1-DELETE"] = "on"
    url = f"/admin/audiences/schema/{store.pk}/change/"
    assert admin_client.post(url, data).status_code == 302
    assert [f.name for f in dynamic.get_model("store")._meta.fields] == ["store_id"]
    response = admin_client.post(f"/admin/audiences/schema/{store.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Schema.objects.exists()
    with pytest.raises(KeyError):
        dynamic.get_model("store")
