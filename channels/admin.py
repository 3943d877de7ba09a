"""The channels in the admin: deliveries with their counts, exclusion reasons, live progress and
rendered samples; the Outbox (messages kept by the Outbox provider and local mode's mail), whose
HTML is shown in a sandboxed iframe (no script, no same-origin access, no navigation); proofs.
Read-only: deliveries are made by runs, proofs by the proof action."""

import threading

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from channels import exclusions, reports
from channels.admin_engagement import (
    chart_data,
    engagement_table,
    funnel,
    uplift_panel,
    uplift_urls,
)
from channels.models import Delivery, OutboxMessage, Proof
from config.access import allowed

IFRAME = (
    '<iframe sandbox="" referrerpolicy="no-referrer" srcdoc="{}" title="{}" '
    'style="width:min(720px, 60vw);height:{}px;border:1px solid #ccc;background:#fff"></iframe>'
)


def html_frame(html, title="message", height=420):
    """Rendered HTML, shown safely: ``srcdoc`` escaped, an empty ``sandbox``."""
    return format_html(IFRAME, html or "", title, height)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _bar(percent):
    return format_html(
        '<div class="delivery-progress" style="width:90px;background:#eee;border-radius:3px">'
        '<div style="width:{}%;background:#417690;color:#fff;font-size:10px;padding:1px 3px;'
        'border-radius:3px;white-space:nowrap">{}%</div></div>',
        min(percent, 100),
        percent,
    )


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly):
    list_display = ("id", "campaign", "activity", "channel", "state", "targeted", "staged",
                    "sent_count", "progress", "created_at")  # fmt: skip
    list_filter = ("channel", "status", "test", "category")
    search_fields = ("campaign_name", "activity_key")
    change_form_template = "admin/channels/delivery/change_form.html"
    fields = ("summary", "counts_table", "engagement", "exclusions_table", "uplift_figures",
              "run_link", "channel", "category",
              "throttle_per_second", "validity_hours", "chunk_size", "staged_at", "expires_at",
              "started_at", "finished_at", "note", "sample_messages")  # fmt: skip
    readonly_fields = fields

    @admin.display(description="campaign", ordering="campaign_name")
    def campaign(self, obj):
        return obj.campaign_name or "-"

    @admin.display(description="activity", ordering="activity_key")
    def activity(self, obj):
        return obj.activity_key or "-"

    @admin.display(description="status", ordering="status")
    def state(self, obj):
        return f"{obj.status} (test)" if obj.test else obj.status

    @admin.display(description="sent")
    def sent_count(self, obj):
        return reports.counts(obj)["sent"]

    @admin.display(description="progress")
    def progress(self, obj):
        return _bar(reports.counts(obj)["percent"])

    @admin.display(description="delivery")
    def summary(self, obj):
        counts = reports.counts(obj)
        return format_html(
            "<strong>{}</strong> · {} · {} {}", obj.get_status_display(), obj, _bar(counts["percent"]),
            "(refreshing every 3 s)" if obj.status == "sending" else "",
        )  # fmt: skip

    @admin.display(description="counts")
    def counts_table(self, obj):
        counts = reports.counts(obj)
        names = ("targeted", "excluded_total", "staged", "queued", "sending", "sent", "failed",
                 "unknown", "expired", "cancelled")  # fmt: skip
        head = format_html_join(
            "", "<th>{}</th>", ((n.replace("_total", "").replace("_", " "),) for n in names)
        )
        cells = format_html_join(
            "", '<td class="count-{}">{}</td>', ((n, counts[n]) for n in names)
        )
        return format_html(
            '<table class="delivery-counts"><tr>{}</tr><tr>{}</tr></table>', head, cells
        )

    @admin.display(description="engagement")
    def engagement(self, obj):
        return engagement_table(reports.report([obj])[obj.pk])

    @admin.display(description="control group uplift")
    def uplift_figures(self, obj):
        return uplift_panel(obj)

    def get_urls(self):
        return uplift_urls(self) + super().get_urls()

    @admin.display(description="excluded by reason")
    def exclusions_table(self, obj):
        excluded = reports.counts(obj)["excluded"]
        if not excluded:
            return "none"
        rows = format_html_join(
            "", "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            ((exclusions.label(r), r, n) for r, n in sorted(excluded.items())),
        )  # fmt: skip
        return format_html(
            "<table><tr><th>reason</th><th>id</th><th>recipients</th></tr>{}</table>", rows
        )

    @admin.display(description="run")
    def run_link(self, obj):
        if obj.run_id is None:
            return "-"
        try:
            url = reverse("admin:campaigns_run_change", args=[obj.run_id])
        except NoReverseMatch:
            return f"run {obj.run_id}"
        return format_html(
            '<a href="{}">run {}</a> · activity {}', url, obj.run_id, obj.activity_key
        )

    @admin.display(description="samples (rendered)")
    def sample_messages(self, obj):
        return sample_list(obj.samples, _viewer.user)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        _viewer.user = request.user
        delivery = (
            Delivery.objects.filter(pk=object_id).first() if str(object_id).isdigit() else None
        )
        if delivery is not None:
            figures = reports.report([delivery])[delivery.pk]
            extra_context = {
                **(extra_context or {}),
                "report_data": chart_data(delivery, figures),
                "funnel": funnel(figures),
            }
        return super().changeform_view(request, object_id, form_url, extra_context)


_viewer = threading.local()  # the user of the page being drawn (samples need view_records)


def sample_list(samples, user):
    """The rendered samples: personal data, so only for ``audiences.view_records``."""
    if not allowed(user, "audiences.view_records"):
        return "Samples show personal data: they need audiences.view_records."
    if not samples:
        return "none"
    items = []
    for sample in samples:
        head = format_html(
            "<p><strong>{}</strong> → {}</p>", sample.get("key"), sample.get("address")
        )
        if sample.get("error"):
            items.append(format_html('{}<p class="errornote">{}</p>', head, sample["error"]))
            continue
        subject = sample.get("subject") or sample.get("title") or ""
        body = html_frame(sample["html"], subject, 260) if sample.get("html") else format_html(
            "<pre style='white-space:pre-wrap'>{}</pre>", sample.get("text") or sample.get("body") or ""
        )  # fmt: skip
        items.append(format_html("{}<p>Subject: <strong>{}</strong></p>{}", head, subject, body))
    return format_html_join("", '<div class="delivery-sample">{}</div>', ((i,) for i in items))


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnly):
    list_display = ("created_at", "channel", "to", "subject", "proof")
    list_filter = ("channel", "proof")
    search_fields = ("to", "subject")
    fields = (
        "created_at",
        "channel",
        "to",
        "sender",
        "subject",
        "headers",
        "data",
        "text",
        "rendered",
    )
    readonly_fields = fields

    @admin.display(description="HTML (rendered in a sandbox)")
    def rendered(self, obj):
        return html_frame(obj.html, obj.subject) if obj.html else "no HTML part"


@admin.register(Proof)
class ProofAdmin(ReadOnly):
    list_display = (
        "created_at",
        "campaign_name",
        "activity_key",
        "record_key",
        "recipients",
        "sent_by",
    )
    search_fields = ("campaign_name", "activity_key")
    readonly_fields = [f.name for f in Proof._meta.fields]

    @admin.display(description="to")
    def recipients(self, obj):
        return ", ".join(f"{r['to']}: {r['status']}" for r in obj.results)


def delivery_panel(delivery, user):
    """A delivery's counts, exclusions and samples (the send confirmation's task page)."""
    page = DeliveryAdmin(Delivery, admin.site)
    _viewer.user = user
    return format_html(
        "{}<h3>Excluded by reason</h3>{}<h3>Samples</h3>{}",
        page.counts_table(delivery),
        page.exclusions_table(delivery),
        page.sample_messages(delivery),
    )
