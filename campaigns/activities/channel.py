"""The shared part of the channel kinds ``email``, ``sms`` and ``push`` (design 5.4, 10): not a
kind itself (no ``type``), so the registry never lists it.

A channel activity hands ``channels.services`` its population, its message definition (the
``MESSAGE`` options of the kind) and the run's context, and gets a delivery back; then it waits
(``Waiting``: no worker is held) until the delivery ends, and is woken by the engine's one
wake-up function (``campaigns.engine.wakeups``) that ``channels`` reaches by a signal.

``run`` across its wake-ups (the delivery's id is kept in the activity run's state):
1. stage (one ``INSERT ... SELECT``, exclusions counted by reason, samples rendered). A test run
   stops here: ``out`` carries the staged recipients, nothing is sent (design 7);
2. unless ``send_confirmation`` is false, a ``send_confirmation`` human task for the group
   ``SEND_CONFIRMATION_GROUP`` shows the final count and 3 samples, due when the validity window
   ends; ``approve/`` sends, ``reject/`` or expiry end the activity ``cancelled`` (``out``
   carries nothing; its error says why);
3. send (``channels`` fans out over chunks), wait until every message is final, then ``out``
   carries the recipients sent to.

``owner_state`` answers ``channels.signals.owner_state`` from the run's status: pause holds the
sending, resume continues it, stop (or a failed run) ends it; nothing is ever resent.
"""

import datetime

from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone

from audiences.models import Schema
from campaigns import task_kinds
from campaigns.activities import options as o
from campaigns.activities.base import ActivityKind, Waiting, error
from channels import content as shaping
from channels import services as channels

MARGIN = datetime.timedelta(minutes=1)


class SendConfirmationTask(task_kinds.TaskKind):
    """The human task a channel activity waits on before sending (step 2 of the module
    docstring): decided by ``confirm_send``; its decision or expiry wakes the activity."""

    name, label = "send_confirmation", "Send confirmation"
    decide_action = "confirm_send"

    def decided(self, task, user):
        task_kinds.wake(task)

    def expired(self, task):
        task_kinds.wake(task)


task_kinds.register(SendConfirmationTask())


def confirmation_delivery(task):
    """The delivery a send confirmation ``task`` is about (kept in its activity run's state),
    or None."""
    from channels.models import Delivery

    ar = task.activity_run
    found = (ar.state or {}).get("delivery") if ar is not None else None
    return Delivery.objects.filter(pk=found).first() if found else None


def common_options():
    return {
        "category": o.string(
            "marketing",
            "Marketing messages obey opt-outs and pressure rules; transactional ones only "
            "suppressions.",
            enum=("marketing", "transactional"),
        ),
        "send_confirmation": o.boolean(
            True, "Live runs wait for a member of the send confirmers to approve the send."
        ),
        "throttle_per_second": o.integer(
            None,
            "At most this many messages per second, all workers together (empty: as fast as "
            "the provider takes them).",
            nullable=True,
            minimum=1,
            maximum=2000,
        ),
        "validity_hours": o.integer(
            12, "Messages not sent this many hours after staging expire.", minimum=1, maximum=720
        ),
        "control_group": o.obj(
            None,
            "Hold out a random share of the recipients (never sent anything, counted as "
            "'control') to measure the uplift on the goal.",
            nullable=True,
            required=("percent",),
            percent=o.number(None, "The share held out, in percent.", minimum=0.1, maximum=90),
        ),
        "goal": o.rule(
            "What counts as a success for the uplift report, evaluated after the send "
            '({"now": "-7d"} counts back from the send time).',
            of="inbound",
            nullable=True,
        ),
    }


def template_context(check) -> dict:
    """What a template check knows from the graph: the schema, the population's columns and the
    declared variables (``channels.personalize.check``)."""
    shape = check.input
    return {
        "schema": shape.schema if shape else None,
        "targets": shape.columns if shape else None,
        "variables": check.variables,
    }


def owner_state(sender, delivery=None, **kwargs):
    """``channels.signals.owner_state``: go, hold or stop, from the owning run's status."""
    from campaigns.models import ActivityRunStatus, Run, RunStatus

    if delivery is None or delivery.run_id is None:
        return "go"
    run = Run.objects.filter(pk=delivery.run_id).values_list("status", flat=True).first()
    if run in (RunStatus.PENDING, RunStatus.RUNNING, RunStatus.WAITING):
        from campaigns.models import ActivityRun

        ar = ActivityRun.objects.filter(pk=delivery.activity_run_id).values_list(
            "status", flat=True
        )
        return "stop" if ar.first() == ActivityRunStatus.CANCELLED else "go"
    return "hold" if run == RunStatus.PAUSED else "stop"


class ChannelKind(ActivityKind):
    group = "channels"
    channel = ""
    MESSAGE: tuple = ()  # the options that make the message definition

    def validate(self, options, check):
        shape = check.input
        if shape is None:
            return []
        schema = Schema.objects.filter(name=shape.schema).first()
        if schema is not None and not (schema.targeting or {}).get(self.channel):
            return [error(check.path, f"{shape.schema} has no {self.channel} address (targeting)")]
        return []

    def notes(self, options) -> list[str]:
        """Facts shown when the activity is saved (the SMS length, for instance)."""
        return []

    def message(self, options) -> dict:
        return {name: options.get(name) for name in self.MESSAGE}

    def _owner(self, ctx):
        return {
            "campaign_id": ctx.run.campaign_id,
            "campaign_name": ctx.run.campaign.name[:200],
            "run_id": ctx.run.pk,
            "activity_run_id": ctx.activity_run.pk,
            "activity_key": ctx.key,
        }

    def _stage(self, ctx):
        options = ctx.options
        return channels.stage(
            population=ctx.input,
            channel=self.channel,
            content=self.message(options),
            owner=self._owner(ctx),
            test=ctx.test,
            category=options["category"],
            throttle_per_second=options["throttle_per_second"],
            validity_hours=options["validity_hours"],
            context={
                "vars": ctx.variables,
                "campaign": {"id": ctx.run.campaign_id, "name": ctx.run.campaign.name},
            },
            engagement=self._engagement(ctx),
        )

    def _engagement(self, ctx):
        """The pressure and incrementality settings of the delivery (issue 13): the campaign's
        ``frequency_cap`` and time zone as published, the activity's control group and goal."""
        definition = ctx.run.version.definition or {}
        return {
            "frequency_cap": definition.get("frequency_cap"),
            "timezone": (definition.get("schedule") or {}).get("timezone", ""),
            "control_group": ctx.options.get("control_group"),
            "goal": ctx.options.get("goal"),
        }

    def run(self, ctx):
        from channels.models import Delivery

        if ctx.input is None:
            return {"out": None}
        if "delivery" not in ctx.state:
            return self._begin(ctx)
        delivery = Delivery.objects.get(pk=ctx.state["delivery"])
        return self._continue(ctx, delivery)

    def _begin(self, ctx):
        delivery = self._stage(ctx)
        ctx.state["delivery"] = delivery.pk
        ctx.state["counts"] = {"targeted": delivery.targeted, "staged": delivery.staged}
        if ctx.test:
            ctx.state["note"] = "not sent (test run)"
            return {"out": channels.staged_population(delivery, label=self._label(ctx, "staged"))}
        if ctx.options["send_confirmation"] and delivery.staged:
            channels.await_confirmation(delivery)
            task = self._confirmation_task(ctx, delivery)
            ctx.state["task"] = task.pk
            return Waiting(task.due_at)
        channels.start_sending(delivery)
        return Waiting(delivery.expires_at + MARGIN)

    def _label(self, ctx, what):
        return f"run {ctx.run.pk} {ctx.key} {what}"

    def _confirmation_task(self, ctx, delivery):
        from campaigns.services import tasks

        group, _ = Group.objects.get_or_create(name=settings.SEND_CONFIRMATION_GROUP)
        excluded = ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in delivery.excluded.items())
        return tasks.create_task(
            kind=SendConfirmationTask.name,
            title=f"Confirm the {self.channel} send of {ctx.key} in {ctx.run.campaign}"[:200],
            message=(
                f"{delivery.staged} recipients will get this {self.channel} "
                f"({delivery.targeted} targeted; excluded: {excluded or 'none'}). "
                f"Approve to send, reject to cancel. Unconfirmed, it expires at "
                f"{timezone.localtime(delivery.expires_at):%Y-%m-%d %H:%M}."
            ),
            group=group,
            due_at=delivery.expires_at,
            run=ctx.run,
            activity_run=ctx.activity_run,
        )

    def _continue(self, ctx, delivery):
        from channels.models import DeliveryStatus

        if delivery.status == DeliveryStatus.CONFIRMING:
            return self._confirming(ctx, delivery)
        if delivery.status == DeliveryStatus.FINISHED:
            ctx.state["counts"] = channels.progress(delivery)
            return {"out": channels.sent_population(delivery, label=self._label(ctx, "sent"))}
        if delivery.status in (DeliveryStatus.CANCELLED, DeliveryStatus.STOPPED):
            return self._end_cancelled(ctx, delivery.note or f"delivery {delivery.status}")
        return Waiting(max(delivery.expires_at + MARGIN, timezone.now() + MARGIN))

    def _confirming(self, ctx, delivery):
        from campaigns.models import HumanTask, HumanTaskStatus

        task = HumanTask.objects.get(pk=ctx.state["task"])
        if task.status == HumanTaskStatus.DONE and task.decision == "approved":
            channels.start_sending(delivery)
            return Waiting(delivery.expires_at + MARGIN)
        if task.status == HumanTaskStatus.DONE:
            who = task.decided_by or "the system"
            why = f"send confirmation rejected by {who}" + (
                f": {task.comment}" if task.comment else ""
            )
            channels.cancel(delivery, why)
            return self._end_cancelled(ctx, why)
        if (
            task.status in (HumanTaskStatus.NEW, HumanTaskStatus.ASSIGNED)
            and timezone.now() < task.due_at
        ):
            return Waiting(task.due_at)
        if task.status in (HumanTaskStatus.NEW, HumanTaskStatus.ASSIGNED):
            from campaigns.services import tasks

            tasks.expire_task(task)
        channels.expire_confirmation(delivery)
        return self._end_cancelled(ctx, "send confirmation expired: nobody confirmed in time")

    def _end_cancelled(self, ctx, why):
        from campaigns.engine import wakeups

        ctx.state["cancelled"] = why
        wakeups.cancel_on_commit(ctx.activity_run.pk, f"cancelled: {why}")
        return Waiting(timezone.now() + MARGIN)


__all__ = ["ChannelKind", "common_options", "owner_state", "shaping"]
