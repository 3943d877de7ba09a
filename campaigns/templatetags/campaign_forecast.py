"""``{% campaign_forecast campaign as fc %}``: the forecast panel's data
(``campaigns.admin_forecast.panel``) for the current user."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def campaign_forecast(context, campaign):
    from campaigns.admin_forecast import panel

    request = context.get("request")
    return panel(campaign, getattr(request, "user", None))


@register.filter
def thousands(value):
    """``1234567`` -> ``1,234,567`` (anything else unchanged)."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value
