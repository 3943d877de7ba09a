"""Signals ``channels`` sends, so it never imports ``campaigns`` (design 9).

- ``delivery_ended(sender=Delivery, delivery, activity_run_id)``: sent on commit when a delivery
  stops being open: every message is final, or it was cancelled, stopped or expired. The engine
  connects its wake-up function (``campaigns.engine.wakeups``) to it.
- ``owner_state(sender=Delivery, delivery)``: asked by the sender (at most once a second per job)
  and by the tick; receivers answer ``"go"``, ``"hold"`` (the owner is paused: keep what is left
  for later) or ``"stop"`` (the owner ended: what is left is cancelled). No receiver, or only
  ``"go"`` answers: go. The most restrictive answer wins.
"""

from django.dispatch import Signal

delivery_ended = Signal()
owner_state = Signal()

ORDER = ("go", "hold", "stop")


def ask_owner(delivery) -> str:
    answers = [r for _receiver, r in owner_state.send(sender=type(delivery), delivery=delivery)]
    known = [a for a in answers if a in ORDER] or ["go"]
    return max(known, key=ORDER.index)


def ended(delivery) -> None:
    """Send ``delivery_ended`` when the current transaction commits."""
    from django.db import transaction

    def send():
        delivery_ended.send(
            sender=type(delivery), delivery=delivery, activity_run_id=delivery.activity_run_id
        )

    transaction.on_commit(send)
