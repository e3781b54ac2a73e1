"""Events for open inboxes: built here, numbered and stored with the change, sent after commit.

Only services call `publish_on_commit`. Shape: {"type": "message"|"conversation", "op": ..., "seq": n, ...}.
`seq` is the stored InboxEvent id: a browser that lost its socket asks for everything after the last
`seq` it saw, so nothing is missed and nothing is shown twice.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import threading
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import InMemoryChannelLayer, channel_layers, get_channel_layer
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from inbox.models import Conversation, InboxEvent
from inbox.selectors import LIST_FIELDS, conversation_window, unread_counts
from integrations import sql

logger = logging.getLogger(__name__)

STAFF_GROUP = "inbox.staff"
RETENTION = dt.timedelta(days=1)


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def message_payload(message) -> dict:
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "source": message.source,
        "kind": message.kind,
        "text": message.text,
        "attachments": message.attachments,
        "state": message.state,
        "error": message.error,
        "sent_by": message.sent_by.get_username() if message.sent_by_id and message.sent_by else None,
        "billed": message.billed,
        "window": message.decision.get("window") if message.decision else None,
        "created_at": iso(message.platform_timestamp),
    }


def conversation_for_event(conversation_id: int) -> Conversation:
    return Conversation.objects.select_related("channel", "contact", "assignee", "last_message").get(pk=conversation_id)


def conversation_payload(conversation: Conversation, *, now: dt.datetime | None = None) -> dict:
    last = conversation.last_message
    window = conversation_window(conversation, now=now or timezone.now())
    return {
        "id": conversation.pk,
        "channel_id": conversation.channel_id,
        "contact": {
            "name": conversation.contact.display_name or conversation.contact.platform_user_id,
            "avatar": conversation.contact.avatar_url,
            "platform_id": conversation.contact.platform_user_id,
        },
        "unread_count": conversation.unread_count,
        "assignee": {"id": conversation.assignee_id, "name": conversation.assignee.get_username()} if conversation.assignee_id else None,
        "starred": conversation.starred,
        "star_due_at": iso(conversation.star_due_at),
        "note": conversation.note,
        "needs_reply": bool(
            conversation.last_inbound_at
            and (conversation.last_reply_at is None or conversation.last_reply_at < conversation.last_inbound_at)
        ),
        "last_message": (
            {"id": last.pk, "direction": last.direction, "kind": last.kind, "text": last.text[:120], "created_at": iso(last.platform_timestamp)}
            if last
            else None
        ),
        "activity_at": iso(conversation.activity_at),
        "window": window.as_dict(),
    }


def message_added(message, *, conversation_created: bool = False, conversation: Conversation | None = None) -> dict:
    """A new message, with its conversation's new summary.

    `conversation`: the conversation as `record_activity` returned it, its channel and contact already set (the
    webhook path: the summary then costs no query but, when it is assigned, the assignee's name). Without it,
    the summary is read here.

    No unread counts (an aggregate over every unread conversation, too dear for every inbound message): when
    this message made a read conversation unread, `unread_delta` says which tab counts grow by one, and the page
    adds it to what it shows. Counts change no other way through a message; every conversation event (staff
    reading, marking unread, ...) still carries the whole `unread_counts`, which the page takes as they are.
    """
    if conversation is None:
        # Only the columns the summary shows (not the channel's secrets, the assignee's password hash, the last
        # message's JSON).
        conversation = (
            Conversation.objects.select_related("channel", "contact", "assignee", "last_message")
            .only(*LIST_FIELDS, "channel__is_active")
            .get(pk=message.conversation_id)
        )
    else:
        _summary_relations(conversation, message)
    event = {
        "type": "message",
        "op": "add",
        "message": message_payload(message),
        "conversation": conversation_payload(conversation),
        "conversation_created": conversation_created,
    }
    if became_unread(message, conversation):
        event["unread_delta"] = {"all": 1, str(conversation.channel_id): 1}
    return event


def _summary_relations(conversation: Conversation, message) -> None:
    """Set what the summary shows of the last message and the assignee, without a query where it can."""
    if conversation.last_message_id == message.pk:
        conversation.last_message = message
    if conversation.assignee_id is not None:
        user_model = get_user_model()
        connection = sql.connection_for(user_model)
        row = sql.fetch_one(user_model, _assignee_sql(connection), [conversation.assignee_id])
        conversation.assignee = None if row is None else sql.instance(user_model, _assignee_fields(), row, connection)


def _assignee_fields() -> tuple[str, str]:
    return ("id", get_user_model().USERNAME_FIELD)


@sql.statement
def _assignee_sql(connection) -> str:
    user_model = get_user_model()
    return (
        f"SELECT {sql.columns(user_model, _assignee_fields(), connection)} FROM {sql.table(user_model, connection)} "
        f"WHERE {sql.column(user_model, 'id', connection)} = %s"
    )


def became_unread(message, conversation: Conversation) -> bool:
    """Whether this inbound message turned the conversation from read to unread.

    Read after `record_activity` added one to `unread_count` in this transaction: the UPDATE holds the row's lock
    until the commit, so no other change (another message, a staff member reading it) can come in between, and a
    count of exactly 1 means it was 0. Conversations of inactive channels have no tab and count nowhere
    (`selectors.unread_counts`).
    """
    return (
        message.direction == message.Direction.INBOUND
        and conversation.unread_count == 1
        and conversation.channel.is_active
    )


def message_changed(message) -> dict:
    return {"type": "message", "op": "update", "message": message_payload(message)}


def states_changed(conversation, message_ids: list[int], state: str) -> dict:
    return {"type": "message", "op": "state", "conversation_id": conversation.pk, "ids": message_ids, "state": state}


def conversation_changed(conversation: Conversation, *, op: str, actor_id: int | None = None) -> dict:
    return {
        "type": "conversation",
        "op": op,
        "conversation": conversation_payload(conversation),
        "actor_id": actor_id,
        "unread_counts": tab_counts(),
    }


def tab_counts() -> dict[str, int]:
    """Unread conversations per tab, keyed as the page's tabs are ("all" or a channel id): for conversation
    events (people's actions, a few a minute), never per inbound message (`message_added`)."""
    return {str(k): v for k, v in unread_counts().items()}


def publish_on_commit(event: dict) -> None:
    """Store the event with the change (same transaction), then send it once the change is committed (with the
    others of the block, inside `published_together`)."""
    # Composed SQL (integrations.sql) rather than `create()`: once per inbound message.
    [(seq,)] = sql.insert_returning([InboxEvent(payload=event)])
    numbered = {**event, "seq": seq}
    transaction.on_commit(lambda: _committed(numbered), robust=True)


_together = threading.local()  # .events: the events committed in this thread's published_together block


@contextmanager
def published_together():
    """Events committed inside this block are sent as one channel-layer message when it ends, instead of one
    each: the webhook worker's task commits the events of many deliveries at once (benchmark 1; one message
    costs the worker about 0.2 ms of CPU and Redis one script run). Only committed events are sent: they are
    gathered by the same commit hooks that would have sent them (a rolled-back transaction or savepoint
    drops its own). Nested blocks are part of the outermost one."""
    if getattr(_together, "events", None) is not None:
        yield
        return
    _together.events = []
    try:
        yield
    finally:
        committed, _together.events = _together.events, None
        if committed:
            publish(*committed)


def _committed(event: dict) -> None:
    gathering = getattr(_together, "events", None)
    if gathering is not None:
        gathering.append(event)
    else:
        publish(event)


def publish(*events: dict) -> None:
    """Send to every open staff inbox: one event as `inbox.event`, several as one `inbox.events` message (the
    socket forwards them one frame each, in order). A broken channel layer must not fail the write that
    happened."""
    layer = get_channel_layer()
    if layer is None or not events:
        return
    message = {"type": "inbox.event", "event": events[0]} if len(events) == 1 else {"type": "inbox.events", "events": list(events)}
    try:
        if isinstance(layer, InMemoryChannelLayer):
            # Its queues belong to the consumers' event loop (demo, tests): async_to_sync goes back to it.
            async_to_sync(layer.group_send)(STAFF_GROUP, message)
        else:
            _publish_kept(message)
    except Exception:
        logger.exception("could not publish %s", ", ".join(f"{e.get('type')}/{e.get('op')}" for e in events))


def _publish_kept(message: dict) -> None:
    """Through this process's kept publisher (its own loop, layer and Redis connection). A kept connection may
    have been dropped since the last event (Redis restarted, an idle timeout): the failed send has discarded
    it, so it is tried once more on a fresh one. A frame sent twice is harmless (pages ignore a `seq` they
    have seen)."""
    for attempt in (1, 2):
        loop, layer = _publisher()
        sending = asyncio.run_coroutine_threadsafe(layer.group_send(STAFF_GROUP, message), loop)
        try:
            sending.result(PUBLISH_TIMEOUT)
            return
        except Exception:
            sending.cancel()  # a send still waiting on a stalled Redis holds a connection: not past its timeout
            if attempt == 2:
                raise
            logger.info("publishing %s again on a fresh connection", message["type"])


PUBLISH_TIMEOUT = 5.0  # seconds
_publishers: dict[int, tuple[asyncio.AbstractEventLoop, object]] = {}  # by process id
_publisher_lock = threading.Lock()


def _publisher() -> tuple[asyncio.AbstractEventLoop, object]:
    """This process's event loop for publishing from synchronous code (the Celery worker, sync views), run
    by a daemon thread and kept, with a channel layer of its own: publishing costs about 0.2 ms of CPU instead
    of the 1.5 ms of a new thread, loop and connection per event (async_to_sync outside an event loop;
    benchmark 1). The layer is not the one `get_channel_layer()` shares with the websocket consumers: in a web
    process they run on daphne's loop, and one layer's Redis connections must not serve two loops. Made again
    in a forked child (Celery's prefork pool)."""
    with _publisher_lock:
        entry = _publishers.get(os.getpid())
        if entry is None or entry[0].is_closed():
            _publishers.clear()  # a parent's loop, copied by fork without its thread
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="inbox-events-publisher", daemon=True).start()
            entry = _publishers[os.getpid()] = (loop, channel_layers.make_backend(DEFAULT_CHANNEL_LAYER))
        return entry


# Event numbers are given when an event is stored, inside its change's transaction, so two processes can
# commit them out of order: number 41 may become visible after 42. A page (or a socket reconnecting) that saw
# 42 asks again for the last REPLAY_WINDOW numbers and skips those it already has, so a late 41 still arrives.
REPLAY_WINDOW = 50


def page_position(*, window: int = REPLAY_WINDOW) -> tuple[int, list[int]]:
    """For a page about to be rendered: the newest event number, and the numbers among the last `window` that
    are already committed (what the page will show). Read before the page's rows and counts: an event
    committed after this is replayed to the page, never lost (applying it twice is harmless)."""
    numbers = list(InboxEvent.objects.order_by("-pk").values_list("pk", flat=True)[:window])
    newest = numbers[0] if numbers else 0
    return newest, sorted(n for n in numbers if n > newest - window)


def events_since(seq: int, *, known: int | None = None, limit: int = 500) -> list[dict] | None:
    """Stored events after `seq`, oldest first; None when the gap is too old or too long to replay.

    `known`: the newest number the browser has applied (it may ask from a little before it, see
    REPLAY_WINDOW); the gap is judged from it."""
    applied = seq if known is None else max(seq, known)
    if applied and not InboxEvent.objects.filter(pk__lte=applied).exists() and InboxEvent.objects.exists():
        return None
    rows = list(InboxEvent.objects.filter(pk__gt=seq).order_by("pk")[: limit + 1])
    if len(rows) > limit:
        return None
    return [{**row.payload, "seq": row.pk} for row in rows]


def prune(*, now: dt.datetime | None = None) -> int:
    deleted, _ = InboxEvent.objects.filter(created_at__lt=(now or timezone.now()) - RETENTION).delete()
    return deleted
