"""The private model registry of runtime schemas (audiences.dynamic)."""

import pytest
from django.db import connection

from audiences import dynamic
from audiences.models import Attribute, Link, Schema


def _define_store_and_customer():
    store = Schema.objects.create(name="store", primary_key="store_id")
    Attribute.objects.create(schema=store, name="store_id", type="string")
    Attribute.objects.create(schema=store, name="city", type="string")
    customer = Schema.objects.create(name="customer", primary_key="customer_id")
    for name, kind in [("customer_id", "string"), ("shop", "string"), ("points", "integer")]:
        Attribute.objects.create(schema=customer, name=name, type=kind)
    Link.objects.create(schema=customer, name="store", to=store, via="shop", reverse="customers")
    dynamic.bump()
    with connection.schema_editor() as editor:
        editor.create_model(dynamic.get_model("store"))
        editor.create_model(dynamic.get_model("customer"))


@pytest.mark.django_db
def test_links_join_both_ways_and_via_is_one_column():
    _define_store_and_customer()
    store_model, customer_model = dynamic.get_model("store"), dynamic.get_model("customer")
    store_model.objects.create(store_id="s1", city="Paris")
    customer_model.objects.create(customer_id="c1", store_id="s1", points=5)
    customer_model.objects.create(customer_id="c2", store_id=None, points=1)

    assert list(
        customer_model.objects.filter(store__city="Paris").values_list("pk", flat=True)
    ) == ["c1"]
    assert list(
        store_model.objects.filter(customers__points__gt=1).values_list("pk", flat=True)
    ) == ["s1"]
    assert dynamic.attname_of(customer_model, "shop") == "store_id"
    with connection.cursor() as cursor:
        cursor.execute("SELECT shop FROM data_customer WHERE customer_id = 'c1'")
        assert cursor.fetchone() == ("s1",)


@pytest.mark.django_db
def test_schema_models_stay_out_of_the_global_registry():
    from django.apps import apps

    _define_store_and_customer()
    assert all(model._meta.app_label != dynamic.DATA_APP_LABEL for model in apps.get_models())


@pytest.mark.django_db
def test_a_change_made_elsewhere_is_noticed_by_ensure_current():
    _define_store_and_customer()
    token_before = dynamic.generation()
    # Another process bumps the generation: simulate by changing the committed token row.
    from audiences.models import SchemaGeneration

    SchemaGeneration.objects.filter(pk=1).update(token="00000000-0000-0000-0000-000000000001")
    dynamic.ensure_current()
    assert dynamic.generation() != token_before
    assert set(dynamic.all_models()) == {"store", "customer"}
