"""``manage.py define_schemas FILE.json``."""

import copy
import json

import pytest
from django.core.management import CommandError, call_command

from audiences import dynamic
from audiences.models import Schema

DOCUMENT = {
    "schemas": [
        {
            "name": "customer",
            "primary_key": "customer_id",
            "attributes": [
                {"name": "customer_id", "type": "string"},
                {"name": "store_id", "type": "string"},
            ],
            "links": [{"name": "store", "to": "store", "via": "store_id", "reverse": "customers"}],
        },
        {
            "name": "store",
            "primary_key": "store_id",
            "attributes": [{"name": "store_id", "type": "string"}],
        },
    ]
}


@pytest.mark.django_db
def test_a_file_defines_the_schemas_and_their_tables(tmp_path, capsys):
    path = tmp_path / "schemas.json"
    path.write_text(json.dumps(DOCUMENT))
    call_command("define_schemas", str(path))
    assert "defined customer" in capsys.readouterr().out
    assert dynamic.get_model("customer").objects.count() == 0


@pytest.mark.django_db
def test_errors_are_printed_with_their_path_and_nothing_is_written(tmp_path, capsys):
    document = copy.deepcopy(DOCUMENT)
    document["schemas"][0]["links"][0]["via"] = "shop_id"
    path = tmp_path / "schemas.json"
    path.write_text(json.dumps(document))
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("define_schemas", str(path))
    assert "schemas[0].links[0].via: no attribute named 'shop_id'" in capsys.readouterr().err
    assert not Schema.objects.exists()
    path.write_text("{not json")
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("define_schemas", str(path))
