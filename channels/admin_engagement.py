"""Consents, suppressions and events in the admin (issue 13), and the delivery report's parts:
the funnel, the engagement table, the uplift and the data of the sends-over-time chart (drawn by
the vendored Chart.js on the delivery page: ``admin/channels/delivery/change_form.html``)."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from channels import consents, reports, uplift
from channels.models import Consent, Delivery, Event, Suppression
from config.access import allowed
from config.errors import DomainError

FUNNEL = (("targeted", "Targeted"), ("sent", "Sent"), ("delivered", "Delivered"),
          ("opened", "Opened"), ("clicked", "Clicked"))  # fmt: skip
ENGAGEMENT = ("delivered", "bounced", "complained", "opened", "bot_opens", "clicked",
              "unsubscribed")  # fmt: skip


def funnel(figures) -> list[dict]:
    """The funnel's steps with their share of the first (targeted)."""
    first = figures["targeted"] or 0
    return [
        {"key": key, "label": label, "count": figures[key],
         "percent": round(100.0 * figures[key] / first, 1) if first else 0.0}
        for key, label in FUNNEL
    ]  # fmt: skip


def engagement_table(figures):
    head = format_html_join("", "<th>{}</th>", ((n.replace("_", " "),) for n in ENGAGEMENT))
    cells = format_html_join(
        "", '<td class="count-{}">{}</td>', ((n, figures[n]) for n in ENGAGEMENT)
    )
    rates = format_html_join(
        " · ", "{} {}%", ((k.replace("_", " "), v) for k, v in figures["rates"].items() if v is not None)
    )  # fmt: skip
    return format_html(
        '<table class="delivery-counts delivery-engagement"><tr>{}</tr><tr>{}</tr></table>'
        '<p class="help">Rates: {}</p>', head, cells, rates or "none yet",
    )  # fmt: skip


def _pct(value):
    return "-" if value is None else f"{100 * value:.2f}%"


def uplift_panel(delivery):
    result = delivery.uplift
    if not delivery.goal:
        return "No goal: add a goal (and a control group) to the activity to measure the uplift."
    if not result:
        return "Not computed yet (computed when the delivery finishes, or with the button)."
    interval = f"{_pct(result['ci_low'])} to {_pct(result['ci_high'])}"
    return format_html(
        '<table class="delivery-uplift"><tr><th></th><th>recipients</th><th>reached the goal</th>'
        "<th>rate</th></tr><tr><td>sent</td><td>{}</td><td>{}</td><td>{}</td></tr>"
        "<tr><td>control</td><td>{}</td><td>{}</td><td>{}</td></tr></table>"
        "<p>Uplift <strong>{}</strong> (95% interval {}), p = {} · computed {}</p>",
        result["sent"], result["sent_goal"], _pct(result["sent_rate"]),
        result["control"], result["control_goal"], _pct(result["control_rate"]),
        _pct(result["uplift"]), interval,
        "-" if result["p_value"] is None else f"{result['p_value']:.3g}", result.get("computed_at", ""),
    )  # fmt: skip


def chart_data(delivery, figures) -> dict:
    return {"sends": reports.sends_over_time(delivery), "funnel": funnel(figures)}


def uplift_view(admin_site):
    """POST: recompute the uplift of a delivery, back to its page."""

    def view(request, object_id):
        delivery = get_object_or_404(Delivery, pk=object_id)
        if request.method == "POST" and allowed(request.user, "channels.view_delivery"):
            try:
                uplift.compute(delivery)
                messages.success(request, "Uplift recomputed.")
            except DomainError as exc:
                messages.error(request, str(exc))
        return redirect(reverse("admin:channels_delivery_change", args=[delivery.pk]))

    return admin_site.admin_view(view)


def uplift_urls(model_admin):
    return [
        path(
            "<int:object_id>/uplift/",
            uplift_view(model_admin.admin_site),
            name="channels_delivery_uplift",
        )
    ]


class ConsentForm(forms.ModelForm):
    """The service's own checks (``consents.clean_consent``), each error beside its field."""

    class Meta:
        model = Consent
        fields = ("schema", "key", "channel", "category", "status", "address", "source")

    def clean(self):
        data = super().clean()
        _values, errors = consents.clean_consent(data)
        for error in errors:
            if error["path"] not in self.errors:
                self.add_error(
                    error["path"] if error["path"] in self.fields else None, error["message"]
                )
        if not data.get("schema"):
            self.add_error("schema", "The profile's targeting schema is required.")
        return data


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    form = ConsentForm
    list_display = ("key", "address", "channel", "category", "status", "source", "schema",
                    "updated_at")  # fmt: skip
    list_filter = ("channel", "category", "status", "schema")
    search_fields = ("key", "address", "source")
    fields = ("schema", "key", "channel", "category", "status", "address", "source")
    date_hierarchy = "updated_at"

    def save_model(self, request, obj, form, change):
        # through the service: audited, the address matched as staging matches it
        saved = consents.set_consent(
            user=request.user, schema=obj.schema, key=obj.key, channel=obj.channel,
            status=obj.status, category=obj.category, source=obj.source or "admin",
            address=obj.address,
        )  # fmt: skip
        obj.pk = saved.pk


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("address", "channel", "reason", "note", "created_at")
    list_filter = ("channel", "reason")
    search_fields = ("address", "note")
    fields = ("channel", "address", "reason", "note")

    def get_readonly_fields(self, request, obj=None):
        return ("channel", "address") if obj else ()

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        saved = consents.suppress(
            user=request.user, channel=obj.channel, address=obj.address, reason=obj.reason,
            note=obj.note,
        )  # fmt: skip
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        consents.unsuppress(user=request.user, suppression=obj)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "bot", "soft", "message", "delivery", "url")
    list_filter = ("kind", "bot", "soft")
    search_fields = ("url", "message__address")
    list_select_related = ("message", "delivery")
    readonly_fields = [f.name for f in Event._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
