"""Incrementality (issue 13): the goal rate of the recipients sent to against the control group
held out at staging (reason ``control``), with a 95 % confidence interval.

- ``two_proportion(sent_n, sent_goal, control_n, control_goal) -> dict``: the rates, the
  absolute uplift ``sent_rate - control_rate`` with its 95 % interval (normal approximation,
  unpooled standard error ``sqrt(p1(1-p1)/n1 + p0(1-p0)/n0)``), the relative uplift, and the
  two-sided p-value of the pooled z test. Figures are None where a group is empty.
- ``compute(delivery) -> dict``: evaluates the delivery's ``goal`` (a rule on the targeting
  schema) at the send time (``{"now": ...}`` counts from it), counts both groups in ONE query over
  the ledger, stores the result in ``delivery.uplift`` (with ``computed_at``) and returns it.
  Recomputed on demand (``POST deliveries/{id}/uplift/``, the admin button): goals such as
  "bought within 7 days after the send" change as days pass.
"""

import math

from django.db import connection
from django.utils import timezone

from audiences.compiler import queryset_for
from config.errors import ValidationFailed

Z95 = 1.959963984540054


def _rate(goal, n):
    return goal / n if n else None


def two_proportion(sent_n: int, sent_goal: int, control_n: int, control_goal: int) -> dict:
    p1, p0 = _rate(sent_goal, sent_n), _rate(control_goal, control_n)
    result = {
        "sent": sent_n, "sent_goal": sent_goal, "sent_rate": p1,
        "control": control_n, "control_goal": control_goal, "control_rate": p0,
        "uplift": None, "ci_low": None, "ci_high": None, "relative_uplift": None,
        "z": None, "p_value": None,
    }  # fmt: skip
    if p1 is None or p0 is None:
        return result
    diff = p1 - p0
    se = math.sqrt(p1 * (1 - p1) / sent_n + p0 * (1 - p0) / control_n)
    pooled = (sent_goal + control_goal) / (sent_n + control_n)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / sent_n + 1 / control_n))
    z = diff / se_pooled if se_pooled else None
    result.update(
        uplift=diff,
        ci_low=diff - Z95 * se,
        ci_high=diff + Z95 * se,
        relative_uplift=diff / p0 if p0 else None,
        z=z,
        p_value=math.erfc(abs(z) / math.sqrt(2)) if z is not None else None,
    )
    return result


GROUPS = """
SELECT count(*) FILTER (WHERE m.status = 'sent'),
       count(*) FILTER (WHERE m.status = 'sent' AND m.key IN (SELECT g.pk::text FROM ({goal}) g(pk))),
       count(*) FILTER (WHERE m.reason = 'control'),
       count(*) FILTER (WHERE m.reason = 'control' AND m.key IN (SELECT g.pk::text FROM ({goal}) g(pk)))
FROM channels_message m WHERE m.delivery_id = %s AND (m.status = 'sent' OR m.reason = 'control')
"""


def compute(delivery) -> dict:
    if not delivery.goal:
        raise ValidationFailed([{"path": "goal", "message": "this delivery has no goal"}])
    at = delivery.started_at or delivery.staged_at or timezone.now()
    goal = queryset_for(schema=delivery.schema, where=delivery.goal, now=at)
    sql, params = (
        goal.values_list("pk").order_by().query.get_compiler(connection=connection).as_sql()
    )
    with connection.cursor() as cursor:
        cursor.execute(GROUPS.format(goal=sql), [*params, *params, delivery.pk])
        sent_n, sent_goal, control_n, control_goal = cursor.fetchone()
    result = two_proportion(sent_n, sent_goal, control_n, control_goal)
    result.update(computed_at=timezone.now().isoformat(), evaluated_at=at.isoformat())
    delivery.uplift = result
    type(delivery).objects.filter(pk=delivery.pk).update(uplift=result)
    return result
