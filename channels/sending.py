"""Sending one chunk (design 10, step 3), called by the send job (``channels.jobs``).

``send_chunk(delivery, chunk_id, number, token) -> outcome`` loads the chunk's queued messages
and their personalization data (two queries), opens ONE provider connection, then for each batch
of ``SEND_MARK_BATCH // 2`` messages:

1. asks the owner (at most once a second) whether to go on (``channels.signals.owner_state``);
2. renders each message and checks its address exactly; those that fail are final at once
   (``failed`` with the template's error, or ``excluded`` as ``invalid_address``), never sent;
3. takes its throttle slots (``channels.throttle``: the delivery's ``throttle_per_second`` and
   the provider's ``hourly_limit``, shared by every worker);
4. in ONE durable commit (``ledger.advance``, on a ledger thread with its own connection):
   records the fates of the batch before, renews the lease and marks this batch ``sending``;
   that commit runs while the batch before this one is being sent, and while the provider
   builds this batch's messages (``prepare``: MIME bytes), so the disk's wait overlaps the
   provider's calls. Batches are ``SEND_MARK_BATCH // 2`` messages: one being sent and the next
   one marked are at most ``SEND_MARK_BATCH`` messages ``sending`` (the crash bound);
5. sends them one call each, retrying a transient answer with a bounded backoff
   (``SEND_RETRIES``, from ``SEND_RETRY_SECONDS`` doubling, at most 60 s, or the provider's
   ``retry_after``), renewing the lease meanwhile; a permanent answer is ``failed``, no answer
   ``unknown`` (never retried). The last batch is recorded at the end.

Outcomes: ``done`` (chunk finished), ``held`` / ``stopped`` / ``cancelled`` (the delivery is no
longer sending: the chunk is released, its untouched messages stay queued or are closed by the
delivery's end), ``expired`` (the validity window ended: what is queued becomes expired),
``lost`` (the lease was taken over: stop at once).
"""

import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from django.conf import settings
from django.db import connections

from channels import (
    addresses,
    ledger,
    links,
    pressure,
    profiles,
    providers,
    signals,
    throttle,
    tracking,
)
from channels.models import DeliveryStatus, MessageStatus
from channels.personalize import RenderError, Templates
from channels.providers.base import OutgoingMessage, transient

_templates: dict = {}


def templates_of(delivery) -> Templates:
    """Compiled once per delivery (and process)."""
    if delivery.pk is None:
        return Templates(delivery.channel, delivery.content)
    found = _templates.get(delivery.pk)
    if found is None:
        found = _templates[delivery.pk] = Templates(delivery.channel, delivery.content)
        if len(_templates) > 64:
            _templates.pop(next(iter(_templates)))
    return found


def context_for(delivery, profile, target, message_id, proof=False, links_used=True) -> dict:
    return {
        "profile": profile or {},
        "target": target or {},
        "vars": delivery.context.get("vars", {}),
        "campaign": delivery.context.get("campaign", {}),
        "message": links.message_links(message_id, proof=proof) if links_used else {},
    }


def message_id_of(delivery, ledger_id) -> str:
    domain = (delivery.content.get("from_email") or settings.DEFAULT_FROM_EMAIL).rpartition("@")[2]
    return f"<d{delivery.pk}.m{ledger_id}@{domain or 'localhost'}>"


def outgoing(delivery, address, parts, *, ledger_id=None, proof=False) -> OutgoingMessage:
    """The provider's message from rendered ``parts``."""
    content = delivery.content
    message = OutgoingMessage(
        channel=delivery.channel,
        to=address,
        ledger_id=ledger_id,
        proof=proof,
        message_id=message_id_of(delivery, ledger_id if ledger_id else f"proof{time.time_ns()}"),
        headers={"X-Campaign-Proof": "1"} if proof else {},
    )
    if delivery.channel == "email":
        message.subject = ("[Proof] " if proof else "") + parts.get("subject", "")
        message.html, message.text = parts.get("html", ""), parts.get("text", "")
        message.from_email = content.get("from_email") or settings.DEFAULT_FROM_EMAIL
        message.reply_to = content.get("reply_to") or ""
        if ledger_id and not proof and delivery.category == "marketing":
            # RFC 8058: one-click unsubscribe by POST to the same URL, without a login
            url = links.message_links(ledger_id)["unsubscribe_url"]
            message.headers["List-Unsubscribe"] = f"<{url}>"
            message.headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    elif delivery.channel == "sms":
        message.text = ("[Proof] " if proof else "") + parts.get("text", "")
    else:
        message.title = ("[Proof] " if proof else "") + parts.get("title", "")
        message.body, message.data = parts.get("body", ""), parts.get("data") or {}
        message.deep_link = parts.get("deep_link", "")
    return message


class ChunkSender:
    def __init__(self, delivery, chunk_id, number, token):
        self.delivery, self.chunk_id, self.number, self.token = delivery, chunk_id, number, token
        self.lease = settings.SEND_LEASE_SECONDS
        self.renewed_at = time.monotonic()
        self.asked_at = 0.0
        self.buckets = [(f"delivery:{delivery.pk}", delivery.throttle_per_second)]
        limit = providers.hourly_limit(delivery.channel)
        if limit:
            self.buckets.append((f"provider:{delivery.channel}", limit / 3600.0))

    def load(self):
        rows = list(
            self.delivery.messages.filter(chunk=self.number, status=MessageStatus.QUEUED)
            .order_by("id")
            .values_list("id", "key", "address")
        )
        templates = templates_of(self.delivery)
        keys = [key for _id, key, _address in rows]
        self.profiles = profiles.load_profiles(self.delivery.schema, keys, templates.profile_links)
        self.targets = (
            profiles.load_targets(self.delivery.population, keys) if templates.uses_target else {}
        )
        self.opted_out = pressure.excluded_now(self.delivery, self.number)
        return rows, templates

    def owner_verdict(self) -> str:
        now = time.monotonic()
        if now - self.asked_at < 1.0:
            return "go"
        self.asked_at = now
        return signals.ask_owner(self.delivery)

    def keep_lease(self) -> bool:
        if time.monotonic() - self.renewed_at < self.lease / 3:
            return True
        self.renewed_at = time.monotonic()
        return ledger.renew(self.delivery, self.chunk_id, self.token, self.lease)

    def pause(self, seconds):
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, max(self.lease / 4, 0.05)))
            self.keep_lease()

    def prepare(self, batch, templates):
        """``(ready [(id, OutgoingMessage)], finals [outcome])`` for one batch."""
        ready, finals = [], []
        for ledger_id, key, address in batch:
            if ledger_id in self.opted_out:
                reason = self.opted_out[ledger_id]
                words = f"{reason.replace('_', ' ')} since staging"
                finals.append((ledger_id, "excluded", "", words, reason))
                continue
            problem = addresses.exact(self.delivery.channel, address)
            if problem:
                finals.append((ledger_id, "excluded", "", problem, "invalid_address"))
                continue
            context = context_for(
                self.delivery,
                self.profiles.get(key),
                self.targets.get(key),
                ledger_id,
                links_used=templates.uses_message,
            )
            try:
                parts = templates.render(context)
            except RenderError as exc:
                finals.append((ledger_id, "failed", "", f"template: {exc}", ""))
                continue
            if self.delivery.channel == "email":
                parts = tracking.track(parts, ledger_id)
            ready.append((ledger_id, outgoing(self.delivery, address, parts, ledger_id=ledger_id)))
        return ready, finals

    def send_one(self, provider, message):
        retries = settings.SEND_RETRIES
        for attempt in range(1, retries + 2):
            result = provider.send(message)
            if not result.transient:
                return result
            if attempt > retries:
                return transient(f"{result.error} (gave up after {attempt} attempts)")
            delay = result.retry_after or settings.SEND_RETRY_SECONDS * 2 ** (attempt - 1)
            self.pause(min(delay, 60.0))
        return result

    def send_batch(self, provider, batch):
        """Send the marked messages of ``batch`` from its first throttle slot on; their
        outcomes."""
        if (early := batch.start_at - time.monotonic()) > 0:
            self.pause(early)
        outcomes = []
        started = time.monotonic()
        for index, (ledger_id, message) in enumerate(
            m for m in batch.ready if m[0] in batch.marked
        ):
            if batch.spacing and (early := started + index * batch.spacing - time.monotonic()) > 0:
                time.sleep(early)
            result = self.send_one(provider, message)
            outcomes.append((ledger_id, result.status, result.provider_id, result.error, ""))
            self.keep_lease()
        return outcomes

    def mark(self, rows, templates, outcomes, provider, ledger_thread):
        """Render ``rows``, take their throttle slots, and submit to the ledger thread the commit
        that records ``outcomes`` and marks the rendered ones ``sending``; the provider builds
        the messages meanwhile. Returns ``(batch, future of (verdict, marked ids))``."""
        ready, finals = self.prepare(rows, templates)
        wait, spacing = throttle.reserve(self.buckets, len(ready)) if ready else (0.0, 0.0)
        batch = SimpleNamespace(
            ready=ready, spacing=spacing, start_at=time.monotonic() + wait, marked=set()
        )
        ids = [i for i, _m in ready]
        future = ledger_thread.submit(
            ledger.advance, self.delivery, self.chunk_id, self.token, outcomes + finals, ids,
            self.lease,
        )  # fmt: skip
        for _id, message in ready:
            provider.prepare(message)
        return batch, future

    def send_all(self, rows, templates, provider, ledger_thread) -> str:
        """Every batch of ``rows``; the verdict that ended the chunk (``go`` when all went).

        Pipelined: while one marked batch is sent, the ledger thread commits the outcomes of the
        batch before it and the mark of the next, so the wait for the durable commit overlaps
        the provider's calls. Two batches of ``SEND_MARK_BATCH // 2`` are then the most ever
        marked ``sending`` (one being sent, the next one marked); with ``SEND_MARK_BATCH`` 1 the
        steps run one after the other."""
        ahead = settings.SEND_MARK_BATCH >= 2
        size = settings.SEND_MARK_BATCH // 2 if ahead else 1
        unrecorded, current, verdict = [], None, "go"
        for start in [*range(0, len(rows), size), None]:
            if not ahead and current is not None:
                unrecorded += self.send_batch(provider, current)
                current = None
            future = None
            if start is not None:
                verdict = self.owner_verdict()
                if verdict != "go":
                    verdict = "held" if verdict == "hold" else "stopped"
                else:
                    upcoming, future = self.mark(
                        rows[start : start + size], templates, unrecorded, provider, ledger_thread
                    )
                    unrecorded = []
            if current is not None:
                unrecorded += self.send_batch(provider, current)
            if future is None:
                break
            verdict, upcoming.marked = future.result()
            self.renewed_at = time.monotonic()
            if verdict != "go":
                break
            current = upcoming
        ledger.record(self.delivery, self.chunk_id, unrecorded)
        return verdict

    def run(self) -> str:
        rows, templates = self.load()
        provider = providers.get(self.delivery.channel)
        try:
            provider.open()
        except OSError:
            pass  # each send reconnects and reports a transient failure, retried with backoff
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger") as ledger_thread:
            try:
                verdict = self.send_all(rows, templates, provider, ledger_thread)
            finally:
                provider.close()
                ledger_thread.submit(connections.close_all).result()
        if verdict != "go":
            return self.stop(verdict)
        ledger.finish_chunk(self.delivery, self.chunk_id, self.number, self.token)
        return "done"

    def stop(self, verdict) -> str:
        if verdict == "lost":
            return "lost"
        ledger.release(self.chunk_id, self.token)
        if verdict == "expired":
            expire(self.delivery)
        elif verdict == "held":
            hold(self.delivery)
        elif verdict == "stopped":
            ledger.end(self.delivery, DeliveryStatus.STOPPED, "the run ended", "cancelled")
        return verdict


def hold(delivery) -> None:
    from channels.models import Delivery

    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.HELD
    )


def expire(delivery) -> int:
    """The validity window ended: queued messages become expired; finished when none is left."""
    closed = ledger.close_queued(delivery, MessageStatus.EXPIRED)
    ledger.finish_if_done(delivery)
    return closed


def send_chunk(delivery, chunk_id, number, token) -> str:
    return ChunkSender(delivery, chunk_id, number, token).run()
