"""seed_demo: defines the retail schemas, imports through the CSV path, idempotent, deterministic."""

import pytest
from django.core.management import call_command

from audiences import demo, dynamic


@pytest.mark.django_db
def test_seed_demo_twice_gives_the_same_data(capsys):
    call_command("seed_demo", "--profiles", "300")
    counts = {name: dynamic.get_model(name).objects.count() for name in demo.ORDER}
    assert counts == {
        "store": 5,
        "product": 50,
        "customer": 300,
        "purchase": 3000,
        "subscription": 90,
    }
    out = capsys.readouterr().out
    assert "purchase: 3000 rows, 3000 written, 0 rejected (generate " in out
    customer = dynamic.get_model("customer").objects.order_by("pk").first()
    call_command("seed_demo", "--profiles", "300")
    again = {name: dynamic.get_model(name).objects.count() for name in demo.ORDER}
    assert again == counts
    assert dynamic.get_model("customer").objects.order_by("pk").first().email == customer.email
    customers = dynamic.get_model("customer").objects
    assert customers.filter(email="").count() + customers.filter(email__isnull=True).count() > 0
    # skewed: the busiest customer bought far more than the average of 10
    from django.db.models import Count

    top = customers.annotate(n=Count("purchases")).order_by("-n").first().n
    assert top > 50


@pytest.mark.django_db
def test_files_are_deterministic(tmp_path):
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    first.mkdir(), second.mkdir(), other.mkdir()
    for folder, seed in ((first, 7), (second, 7), (other, 8)):
        demo.write_file("purchase", folder, profiles=100, seed=seed)
    data = (first / "purchase.csv").read_bytes()
    assert data == (second / "purchase.csv").read_bytes()
    assert data != (other / "purchase.csv").read_bytes() and data.count(b"\n") == 1001
