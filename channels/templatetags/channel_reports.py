"""``{% campaign_deliveries campaign %}``: each channel activity's headline figures on the
campaign page (``channels.reports.campaign_report``: one query for all its deliveries)."""

from django import template

from channels import reports

register = template.Library()


@register.inclusion_tag("channels/campaign_deliveries.html")
def campaign_deliveries(campaign):
    if campaign is None or getattr(campaign, "pk", None) is None:
        return {"rows": [], "totals": None}
    found = reports.campaign_report(campaign.pk)
    rows = found["deliveries"]
    return {
        "rows": rows[:20],
        "totals": found["totals"],
        "more": len(rows) > 20,
        "name": campaign.name,
    }


@register.filter
def points(value):
    """An uplift (a difference of rates) in percentage points: 0.0213 -> "+2.13 pts"."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    return f"{100 * value:+.2f} pts"
