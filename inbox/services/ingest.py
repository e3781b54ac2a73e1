"""Turning parsed platform events into contacts, conversations and messages.

Called by `integrations.tasks.webhook_receipt_process` (through settings.INBOUND_EVENT_HANDLER) inside a
transaction. Every write is idempotent: the same event processed twice, or by two workers at once, leaves
one message, because unique constraints decide (get_or_create retries its read on IntegrityError).
"""
from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q

from inbox import events
from inbox.models import Contact, Conversation, Message
from inbox.services.conversations import record_activity, record_engagement
from integrations import sql
from integrations.base import EventKind, InboundEvent, MessageKind
from integrations.models import Channel

logger = logging.getLogger(__name__)

# Messenger echoes carry our Send API `metadata`; we put this prefix and the message id there.
OWN_METADATA_PREFIX = "inbox:"


def own_metadata(message_id: int) -> str:
    return f"{OWN_METADATA_PREFIX}{message_id}"


def ingest_event(*, channel: Channel, event: InboundEvent) -> None:
    handler = HANDLERS.get(event.kind)
    if handler is None:  # OTHER and unsend are kept on the receipt only
        return
    if not event.user_id:
        logger.info("event %s without a user id ignored", event.dedupe_key)
        return
    handler(channel, event)


CONTACT_FIELDS = ("id", "channel_id", "platform_user_id", "display_name", "avatar_url", "is_following")
CONVERSATION_KEYS = ("id", "channel_id", "contact_id")


def contact_and_conversation(channel: Channel, user_id: str) -> tuple[Contact, Conversation, bool]:
    """The sender's contact and conversation, created on their first event; whether they were created.

    Most events come from someone who wrote before: both rows in one composed statement (integrations.sql; this
    runs for every event), the contact with what the live event shows of it, the conversation by its keys (its
    other fields load if used). `conversation.contact` is that contact.
    """
    connection = sql.connection_for(Conversation)
    row = sql.fetch_one(Conversation, _chat_sql(connection), [channel.pk, user_id])
    if row is not None:
        contact = sql.instance(Contact, CONTACT_FIELDS, row[: len(CONTACT_FIELDS)], connection)
        conversation = sql.instance(Conversation, CONVERSATION_KEYS, row[len(CONTACT_FIELDS) :], connection)
        conversation.contact = contact
        return contact, conversation, False
    contact, created = Contact.objects.get_or_create(channel=channel, platform_user_id=user_id)
    conversation, _ = Conversation.objects.get_or_create(contact=contact, defaults={"channel": channel})
    conversation.contact = contact
    if created:
        transaction.on_commit(lambda: _fetch_profile(contact.pk), robust=True)
    return contact, conversation, created


@sql.statement
def _chat_sql(connection) -> str:
    contact_table, conversation_table = sql.table(Contact, connection), sql.table(Conversation, connection)
    return (
        f"SELECT {sql.columns(Contact, CONTACT_FIELDS, connection, prefix=contact_table + '.')}, "
        f"{sql.columns(Conversation, CONVERSATION_KEYS, connection, prefix=conversation_table + '.')} "
        f"FROM {contact_table} JOIN {conversation_table} "
        f"ON {conversation_table}.{sql.column(Conversation, 'contact_id', connection)} = {contact_table}.{sql.column(Contact, 'id', connection)} "
        f"WHERE {contact_table}.{sql.column(Contact, 'channel_id', connection)} = %s "
        f"AND {contact_table}.{sql.column(Contact, 'platform_user_id', connection)} = %s"
    )


def insert_new(message: Message) -> bool:
    """Store the message unless one with its (channel, platform_message_id) exists; whether it was stored.

    Insert first (the event is almost always new) and let the unique constraint decide, also against a
    concurrent run of the same event (PostgreSQL waits for it): `INSERT ... ON CONFLICT DO NOTHING RETURNING id`,
    one statement where `create()` in a savepoint, to survive the IntegrityError, took three. Any other error
    (a missing row a key points to) still raises.
    """
    stored = sql.insert_returning([message], on_conflict="")
    if not stored:
        return False
    message.pk = stored[0][0]
    message._state.adding, message._state.db = False, sql.connection_for(Message).alias
    return True


def _fetch_profile(contact_id: int) -> None:
    from inbox.tasks import contact_profile_fetch

    contact_profile_fetch.delay(contact_id)


def _fetch_media(message_id: int) -> None:
    from inbox.tasks import message_media_fetch

    message_media_fetch.delay(message_id)


def _on_inbound(channel: Channel, event: InboundEvent) -> None:
    """A customer's message or postback: store it once, bump the conversation."""
    contact, conversation, is_new = contact_and_conversation(channel, event.user_id)
    kind = MessageKind.POSTBACK if event.kind == EventKind.POSTBACK else (event.message_kind or MessageKind.OTHER)
    platform_message_id = event.message_id or event.dedupe_key
    message = Message(
        channel=channel,
        platform_message_id=platform_message_id,
        conversation=conversation,
        direction=Message.Direction.INBOUND,
        source=Message.Source.CUSTOMER,
        kind=kind,
        text=event.text or (event.payload if event.kind == EventKind.POSTBACK else ""),
        attachments=[a.as_dict() for a in event.attachments],
        state=Message.State.RECEIVED,
        platform_timestamp=event.timestamp,
    )
    if not insert_new(message):
        return  # stored by an earlier or concurrent run of this event
    if not contact.is_following:
        Contact.objects.filter(pk=contact.pk).update(is_following=True)
        contact.is_following = True
    summary = record_activity(conversation_id=conversation.pk, message=message, inbound=True, reply_token=event.reply_token)
    summary.channel, summary.contact = channel, contact
    events.publish_on_commit(events.message_added(message, conversation_created=is_new, conversation=summary))
    if any(a.content_id for a in event.attachments):
        transaction.on_commit(lambda: _fetch_media(message.pk), robust=True)


def _on_echo(channel: Channel, event: InboundEvent) -> None:
    """A message the Page sent. Ours (matched by metadata or mid) is settled as sent; others are stored."""
    own_id = _own_message_id(event.metadata)
    if own_id is not None:
        # The Send API's answer normally settles our message; the echo covers an answer that never came
        # (a timeout marked it failed although Meta had accepted it). Each part (text, image) has its own echo:
        # all are recorded, so a send interrupted half-way knows what went out (inbox.tasks.message_deliver).
        own = Message.objects.select_for_update().filter(pk=own_id, channel=channel).only("platform_message_id", "part_ids").first()
        if own is None:
            return
        seen = {} if event.message_id in own.part_ids else {"part_ids": [*own.part_ids, event.message_id]}
        if not own.platform_message_id:
            seen["platform_message_id"] = event.message_id
        if seen:
            Message.objects.filter(pk=own_id).update(**seen)
        if Message.objects.filter(pk=own_id, channel=channel, state=Message.State.FAILED).update(
            state=Message.State.SENT, error="", sent_at=event.timestamp
        ):
            events.publish_on_commit(events.message_changed(Message.objects.get(pk=own_id)))
        return
    contact, conversation, _ = contact_and_conversation(channel, event.user_id)
    message, created = Message.objects.get_or_create(
        channel=channel,
        platform_message_id=event.message_id,
        defaults={
            "conversation": conversation,
            "direction": Message.Direction.OUTBOUND,
            "source": Message.Source.PAGE_INBOX,
            "kind": event.message_kind or MessageKind.TEXT,
            "text": event.text,
            "attachments": [a.as_dict() for a in event.attachments],
            "state": Message.State.SENT,
            "platform_timestamp": event.timestamp,
            "sent_at": event.timestamp,
            "part_ids": [event.message_id],
        },
    )
    if created:
        record_activity(conversation_id=conversation.pk, message=message, by_person=True)
        events.publish_on_commit(events.message_added(message))


def _own_message_id(metadata: str) -> int | None:
    if not metadata.startswith(OWN_METADATA_PREFIX):
        return None
    try:
        return int(metadata.removeprefix(OWN_METADATA_PREFIX))
    except ValueError:
        return None


# Referral sources that open Messenger's 24-hour window by themselves (platforms.md: an m.me link into an existing
# thread, the chat plugin); a click on a Click-to-Messenger ad opens it only with the message that follows.
WINDOW_OPENING_REFERRALS = frozenset({"SHORTLINK", "CUSTOMER_CHAT_PLUGIN"})


def _on_engagement(channel: Channel, event: InboundEvent) -> None:
    """A reaction, or an m.me link or the chat plugin into an existing chat: Messenger's 24-hour window opens;
    nothing is shown in the chat. Taking a reaction back, an ad click, or anything from someone who has no chat
    with us yet opens nothing (and makes no empty chat)."""
    if event.kind == EventKind.REACTION and event.payload != "react":
        return
    if event.kind == EventKind.REFERRAL and event.text.upper() not in WINDOW_OPENING_REFERRALS:
        return
    conversation_id = (
        Conversation.objects.filter(channel=channel, contact__platform_user_id=event.user_id, activity_at__isnull=False)
        .values_list("pk", flat=True)
        .first()
    )
    if conversation_id is not None:
        record_engagement(conversation_id=conversation_id, at=event.timestamp)


def _on_watermark(channel: Channel, event: InboundEvent) -> None:
    """Messenger delivery/read: every outbound message sent at or before the watermark moves forward."""
    if event.watermark is None:
        return
    conversation = Conversation.objects.filter(channel=channel, contact__platform_user_id=event.user_id).first()
    if conversation is None:
        return
    if event.kind == EventKind.READ:
        target, earlier = Message.State.READ, [Message.State.SENT, Message.State.DELIVERED]
    else:
        target, earlier = Message.State.DELIVERED, [Message.State.SENT]
    scope = Q(sent_at__lte=event.watermark)
    if event.mids:
        scope |= Q(platform_message_id__in=event.mids)
    qs = Message.objects.filter(conversation=conversation, direction=Message.Direction.OUTBOUND, state__in=earlier).filter(scope)
    changed = list(qs.values_list("pk", flat=True))
    if changed:
        Message.objects.filter(pk__in=changed).update(state=target)
        events.publish_on_commit(events.states_changed(conversation, changed, target))


def _on_follow(channel: Channel, event: InboundEvent) -> None:
    contact, conversation, _ = contact_and_conversation(channel, event.user_id)
    Contact.objects.filter(pk=contact.pk).update(is_following=event.kind == EventKind.FOLLOW)
    if event.reply_token:
        Conversation.objects.filter(pk=conversation.pk).update(reply_token=event.reply_token, reply_token_at=event.timestamp)


HANDLERS = {
    EventKind.MESSAGE: _on_inbound,
    EventKind.POSTBACK: _on_inbound,
    EventKind.ECHO: _on_echo,
    EventKind.DELIVERY: _on_watermark,
    EventKind.READ: _on_watermark,
    EventKind.FOLLOW: _on_follow,
    EventKind.UNFOLLOW: _on_follow,
    EventKind.REACTION: _on_engagement,
    EventKind.REFERRAL: _on_engagement,
}
