"""The incrementality report (issue 13): a two-proportion comparison of the goal rate of the
sent group with the control group's, checked against values worked out by hand."""

import math

import pytest
from django.db import connection

from channels.uplift import two_proportion
from tests.channels.engagement import stage
from tests.conftest import staff_with, token_client


def test_two_proportions_of_a_known_fixture_match_the_hand_computed_values():
    # sent: 120 of 1000 reached the goal (12 %), control: 100 of 1000 (10 %)
    # uplift = 0.12 - 0.10 = 0.02
    # se = sqrt(0.12 * 0.88 / 1000 + 0.10 * 0.90 / 1000) = sqrt(0.0001956) = 0.0139857
    # 95 % interval = 0.02 -+ 1.96 * 0.0139857 = [-0.007411, 0.047411]
    # pooled p = 0.11, se0 = sqrt(0.11 * 0.89 * 2 / 1000) = 0.0139929, z = 1.42930, p = 0.1529
    result = two_proportion(1000, 120, 1000, 100)
    assert result["uplift"] == pytest.approx(0.02)
    assert result["ci_low"] == pytest.approx(-0.007411, abs=1e-6)
    assert result["ci_high"] == pytest.approx(0.047411, abs=1e-6)
    assert result["relative_uplift"] == pytest.approx(0.2)
    assert result["z"] == pytest.approx(1.42930, abs=1e-5)
    assert result["p_value"] == pytest.approx(0.1529, abs=1e-4)
    empty = two_proportion(10, 3, 0, 0)
    assert empty["control_rate"] is None and empty["uplift"] is None


@pytest.mark.django_db(transaction=True)
def test_the_uplift_of_a_delivery_is_computed_from_its_goal_and_recomputed_on_demand(shop):
    goal = {"field": "points", "op": "between", "value": [30, 150]}  # c003 .. c015
    delivery = stage(shop, engagement={"control_group": {"percent": 25}, "goal": goal})
    assert delivery.excluded == {"control": 5}
    with connection.cursor() as cursor:  # the fixture: c001-c005 held out, c006-c020 sent
        cursor.execute(
            "UPDATE channels_message SET status = CASE WHEN key <= 'c005' THEN 'excluded' "
            "ELSE 'sent' END, reason = CASE WHEN key <= 'c005' THEN 'control' ELSE '' END "
            "WHERE delivery_id = %s",
            [delivery.pk],
        )
    client = token_client(staff_with("channels.view_delivery", name="analyst"))
    answer = client.post(f"/api/deliveries/{delivery.pk}/uplift/")
    assert answer.status_code == 200, answer.content
    result = answer.json()
    # control: c003, c004, c005 of 5 = 0.6; sent: c006..c015 of 15 = 2/3
    assert (result["sent"], result["sent_goal"], result["control"], result["control_goal"]) == (
        15, 10, 5, 3,
    )  # fmt: skip
    se = math.sqrt((2 / 3) * (1 / 3) / 15 + 0.6 * 0.4 / 5)  # 0.250629
    assert result["uplift"] == pytest.approx(2 / 3 - 0.6)
    assert result["ci_low"] == pytest.approx(-0.424557, abs=1e-6)  # 0.066667 - 1.96 * 0.250629
    assert result["ci_high"] == pytest.approx(0.066667 + 1.959964 * se, abs=1e-5)
    detail = client.get(f"/api/deliveries/{delivery.pk}/").json()
    assert detail["uplift"]["uplift"] == pytest.approx(result["uplift"])
    none = stage(shop, keys=["c001"])
    assert client.post(f"/api/deliveries/{none.pk}/uplift/").status_code == 400
