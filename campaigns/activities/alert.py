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
from django.contrib.auth.models import Group
from django.core import mail
from django.db.models import Q

from campaigns.activities.base import ActivityKind, error
from campaigns.activities.registry import register


def _names_errors(options, path):
    users, groups = options.get("users") or [], options.get("groups") or []
    errors = []
    for name, values in (("users", users), ("groups", groups)):
        for i, value in enumerate(values):
            if not isinstance(value, str) or not value:
                errors.append(error(f"{path}.{name}[{i}]", "must be a name"))
    if errors:
        return errors
    known_users = set(
        get_user_model().objects.filter(username__in=users).values_list("username", flat=True)
    )
    known_groups = set(Group.objects.filter(name__in=groups).values_list("name", flat=True))
    errors += [
        error(f"{path}.users[{i}]", f"no user named {u!r}")
        for i, u in enumerate(users)
        if u not in known_users
    ]
    errors += [
        error(f"{path}.groups[{i}]", f"no group named {g!r}")
        for i, g in enumerate(groups)
        if g not in known_groups
    ]
    if not users and not groups:
        errors.append(error(path, "give at least one user or group"))
    return errors


def recipients(*, users, groups):
    """Email addresses of the active listed users and members of the listed groups, sorted."""
    found = get_user_model().objects.filter(
        Q(username__in=users or []) | Q(groups__name__in=groups or []), is_active=True
    )
    return sorted(set(found.exclude(email="").values_list("email", flat=True)))


def counts_text(run):
    """One line per transition of ``run``'s definition with its count so far."""
    from campaigns.models import FINAL_ACTIVITY

    ars = {ar.key: ar for ar in run.activity_runs.all()}
    lines = []
    for t in run.version.definition["transitions"]:
        source = ars.get(t["from"])
        port = t.get("port", "out")
        if source is None or source.status not in FINAL_ACTIVITY:
            shown = "pending"
        else:
            count = (source.counts or {}).get(port)
            shown = "nothing" if count is None else str(count)
        lines.append(f"  {t['from']} [{port}] -> {t['to']}: {shown}")
    return "\n".join(lines)


def body(ctx):
    run = ctx.run
    head = f"Campaign: {run.campaign.name}\nRun: {run.pk} ({'test' if run.test else 'live'})"
    return f"{ctx.options['message']}\n\n{head}\nCounts so far:\n{counts_text(run)}\n"


@register
class Alert(ActivityKind):
    type = "alert"
    label = "Alert"
    help_text = "Emails users and groups the run's counts so far; passes its input on."
    defaults = {"users": [], "groups": [], "subject": "", "message": ""}
    option_types = {"users": "array", "groups": "array", "subject": "string", "message": "string"}

    def validate_options(self, options, path, var_types=None):
        errors = _names_errors(options, path)
        if not options.get("subject"):
            errors.append(error(f"{path}.subject", "a subject is required"))
        return errors

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
