"""``alert``: emails staff the run's counts so far, then passes its input on unchanged.

Recipients are the active ``users`` (usernames) and the active members of ``groups`` (group names),
each once, those with an email address; names, not ids, so a definition moves between
installations. The mail goes through Django's mail settings (``django.core.mail``: the SMTP backend
when ``EMAIL_HOST`` is set), one message per recipient over one connection. The body is
``message`` followed by the campaign, the run, and the count on every transition of the run so
far ("pending" while its source has not finished, "nothing" for a port that carried nothing).

Test runs send nothing (design 7): the state records who would have received it. A send failure
raises, so the campaign's error policy (retries, stop or ignore) applies. Delivery is at least
once: a worker killed after sending but before committing sends again on the next attempt.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db.models import Q

from campaigns.activities import options as o
from campaigns.activities.base import ActivityKind, error


def recipients(*, users, groups):
    """Email addresses of the active listed users and members of the listed groups, sorted."""
    found = get_user_model().objects.filter(
        Q(username__in=users or []) | Q(groups__name__in=groups or []), is_active=True
    )
    return sorted(set(found.exclude(email="").values_list("email", flat=True)))


def counts_text(run):
    """One line per transition of ``run``'s definition with its count so far."""
    from campaigns import reads

    lines = []
    for t in reads.transitions(run):
        shown = str(t["count"]) if t["state"] == "carried" else t["state"]
        lines.append(f"  {t['from']} [{t['port']}] -> {t['to']}: {shown}")
    return "\n".join(lines)


def body(ctx):
    run = ctx.run
    head = f"Campaign: {run.campaign.name}\nRun: {run.pk} ({'test' if run.test else 'live'})"
    return f"{ctx.options['message']}\n\n{head}\nCounts so far:\n{counts_text(run)}\n"


class Alert(ActivityKind):
    type = "alert"
    label = "Alert"
    help_text = "Emails users and groups the run's counts so far; passes its input on."
    options = o.options(
        users=o.array(o.string(widget="user"), [], "Usernames of the staff to alert."),
        groups=o.array(o.string(widget="group"), [], "Groups whose members are alerted."),
        subject=o.string("", "The email's subject.", min_length=1),
        message=o.string("", "The text above the counts.", widget="textarea"),
    )

    def validate(self, options, check):
        if not options.get("users") and not options.get("groups"):
            return [error(check.path, "give at least one user or group")]
        return []

    def run(self, ctx):
        to = recipients(users=ctx.options["users"], groups=ctx.options["groups"])
        ctx.state["recipients"] = to
        if ctx.test:
            ctx.state["sent"] = 0
            ctx.state["note"] = "not sent (test run)"
            return {"out": ctx.input}
        text = body(ctx)
        if not to:
            ctx.state["sent"] = 0
            return {"out": ctx.input}
        with mail.get_connection() as connection:
            for address in to:
                message = mail.EmailMessage(
                    subject=ctx.options["subject"],
                    body=text,
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=[address],
                    connection=connection,
                )
                connection.send_messages([message])
        ctx.state["sent"] = len(to)
        return {"out": ctx.input}
