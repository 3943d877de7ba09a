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
    return {
        "rows": found["deliveries"][:20],
        "totals": found["totals"],
        "more": len(found["deliveries"]) > 20,
    }
