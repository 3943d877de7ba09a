"""The forecast panel of the campaign page (issue 15): ``campaigns.forecast`` shown in words, a
table and a Chart.js chart (``admin/campaigns/campaign/forecast.html``, included once by the
campaign's ``change_form.html``; drawn by ``campaigns/static/campaigns/forecast.js``).

- ``panel(campaign, user) -> dict``: what the template shows. The page never starts a test run
  by itself (reading a page changes nothing): with no recent test run of this definition it says
  so and points at the Test run button; ``GET campaigns/{id}/forecast/`` starts one.
- ``publish_warnings(request, campaign) -> list``: the warnings as they stand before a publish,
  and ``show(request, campaign, warnings)`` repeats them as messages after it.
"""

from django.contrib import messages

from campaigns import forecast

COLORS = {"email": ("#2f6fb3", "#9cc0e6"), "sms": ("#2e8b57", "#9fd4b4"),
          "push": ("#b35c2f", "#e6b79c")}  # fmt: skip


def chart_data(result) -> dict:
    """Chart.js's ``data``: per channel, this campaign's and the others' bars stacked by channel,
    and the provider's hourly limit as a line."""
    labels = [h[5:16].replace("T", " ") for h in result["hours"]]
    datasets = []
    for curve in result["load"]:
        mine, others = COLORS.get(curve["channel"], ("#555", "#aaa"))
        channel = curve["channel"]
        datasets += [
            {"label": f"{channel}: this campaign", "data": curve["campaign"],
             "backgroundColor": mine, "stack": channel, "type": "bar"},
            {"label": f"{channel}: other campaigns", "data": curve["others"],
             "backgroundColor": others, "stack": channel, "type": "bar"},
        ]  # fmt: skip
        if curve["hourly_limit"]:
            datasets.append(
                {"label": f"{channel}: provider hourly limit", "type": "line",
                 "data": [curve["hourly_limit"]] * len(labels), "borderColor": "#ba2121",
                 "borderDash": [6, 4], "pointRadius": 0, "borderWidth": 1.5, "fill": False}
            )  # fmt: skip
    return {"labels": labels, "datasets": datasets}


def panel(campaign, user) -> dict:
    result = forecast.build(campaign, user=user, start=False)
    return {
        **result,
        "chart": chart_data(result),
        "total": sum(c["campaign_messages"] for c in result["load"]),
    }


def publish_warnings(campaign, user) -> list:
    return forecast.warnings(campaign, user=user)


def show(request, campaign, warnings) -> None:
    for warning in warnings:
        messages.warning(request, f"{campaign}: forecast: {warning['message']}")
