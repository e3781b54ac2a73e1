"""Sending messages to customers: the policy decides, the message is queued, a task delivers it.

The decision (window, messaging_type/tag, reply or push) is stored with the message. The HTTP call
happens in `inbox.tasks.message_deliver`, after the transaction commits, never while rows are locked.
"""
from __future__ import annotations

import datetime as dt
import uuid

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox import events
from inbox.errors import ApplicationError, SendRefused
from inbox.media import store_image
from inbox.models import Conversation, InboxSettings, Message
from inbox.selectors import cache_safely, conversation_window, quota_cache_key
from inbox.services.conversations import record_activity
from integrations.base import LinkButton, MessageKind, Platform
from integrations.policy import Decision, Sender

# Messenger's text limit (LINE allows 5000 UTF-16 units; the smaller one keeps both safe).
MAX_TEXT_LENGTH = 2000


def next_send_decision(*, conversation: Conversation, sender: Sender, now: dt.datetime | None = None) -> Decision:
    """What the platform would allow for the next message in this conversation."""
    return conversation_window(conversation, now=now or timezone.now(), sender=sender)


def send_message(
    *,
    conversation: Conversation,
    author=None,
    text: str = "",
    image=None,
    image_url: str = "",
    automated: bool = False,
    confirm_paid: bool = False,
    buttons: tuple[LinkButton, ...] = (),
) -> Message:
    """Queue a message to the customer, or raise SendRefused saying why it can't be sent now.

    `image` is an uploaded file (checked and stored by `inbox.media`); `image_url` an already public URL.
    `buttons` turn the text into a button message (an order's "view details" / "pay" links).
    `automated` messages (order links, notifications) never use the human-agent allowance. A paid LINE
    push needs `confirm_paid` the first time in a conversation, unless the shop turned that off.
    """
    text = text.strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise ApplicationError(_("The message is longer than %(n)d characters.") % {"n": MAX_TEXT_LENGTH})
    if not (text or image or image_url):
        raise ApplicationError(_("A message needs text or an image."))
    sender = Sender.AUTOMATED if automated or author is None else Sender.PERSON
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().select_related("channel", "contact").get(pk=conversation.pk)
        decision = next_send_decision(conversation=conversation, sender=sender, now=now)
        if not decision.allowed:
            raise SendRefused(decision.reason, extra={"window": decision.as_dict()})
        _check_paid_push(conversation=conversation, decision=decision, sender=sender, confirmed=confirm_paid, now=now)
        if image is not None:
            image_url = store_image(image)
        message = Message.objects.create(
            conversation=conversation,
            channel=conversation.channel,
            direction=Message.Direction.OUTBOUND,
            source=Message.Source.AUTOMATED if sender == Sender.AUTOMATED else Message.Source.STAFF,
            kind=MessageKind.TEMPLATE if buttons else (MessageKind.IMAGE if image_url and not text else MessageKind.TEXT),
            text=text,
            attachments=[{"type": "button", "title": b.label, "url": b.url} for b in buttons]
            + ([{"type": "image", "url": image_url}] if image_url else []),
            state=Message.State.QUEUED,
            sent_by=author,
            platform_timestamp=now,
            **_delivery_fields(conversation, decision),
        )
        record_activity(conversation_id=conversation.pk, message=message, by_person=sender == Sender.PERSON)
        # Publish before delivering: with in-process tasks the delivery's own events come right after,
        # and live events must reach browsers in their numbered order.
        events.publish_on_commit(events.message_added(message))
        _deliver_on_commit(message.pk)
    return message


def retry_message(*, message: Message, actor, confirm_paid: bool = False) -> Message:
    """Send a failed message again, under today's rules. It can never go out twice: a LINE push keeps
    its retry key (LINE answers "already accepted" for a repeat), Messenger parts already sent are skipped."""
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().select_related("channel", "contact").get(pk=message.conversation_id)
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.state != Message.State.FAILED or message.direction != Message.Direction.OUTBOUND:
            raise SendRefused(_("Only a failed message can be sent again."))
        sender = Sender.AUTOMATED if message.source == Message.Source.AUTOMATED else Sender.PERSON
        decision = next_send_decision(conversation=conversation, sender=sender, now=now)
        if not decision.allowed:
            raise SendRefused(decision.reason, extra={"window": decision.as_dict()})
        _check_paid_push(conversation=conversation, decision=decision, sender=sender, confirmed=confirm_paid, now=now)
        fields = _delivery_fields(conversation, decision)
        if message.retry_key:  # keep the key: a push LINE already accepted is answered 409, not sent again
            fields["retry_key"] = message.retry_key
        Message.objects.filter(pk=message.pk).update(state=Message.State.QUEUED, error="", **fields)
        message.refresh_from_db()
        events.publish_on_commit(events.message_changed(message))
        _deliver_on_commit(message.pk)
    return message


def _check_paid_push(*, conversation: Conversation, decision: Decision, sender: Sender, confirmed: bool, now) -> None:
    """The first paid LINE push in a conversation needs a person's click (the shop can turn this off)."""
    if not decision.billed or sender != Sender.PERSON or conversation.paid_push_confirmed_at:
        return
    if not InboxSettings.load().confirm_paid_line_push:
        return
    if not confirmed:
        raise SendRefused(
            _("This message will be sent as a paid LINE push message. Confirm to send it."),
            extra={"window": decision.as_dict(), "needs_confirmation": True},
        )
    Conversation.objects.filter(pk=conversation.pk).update(paid_push_confirmed_at=now)


def _delivery_fields(conversation: Conversation, decision: Decision) -> dict:
    """What the delivery task needs: the decision, the reply token it consumes, a LINE retry key."""
    is_line = conversation.channel.platform == Platform.LINE
    reply_token = ""
    if decision.use_reply_token:
        # The token works once: take it off the conversation in the same transaction.
        reply_token = conversation.reply_token
        Conversation.objects.filter(pk=conversation.pk).update(reply_token="", reply_token_at=None)
    return {
        "decision": decision.as_dict(),
        "reply_token": reply_token,
        "retry_key": uuid.uuid4() if is_line and not reply_token else None,
        "billed": decision.billed if is_line else None,
    }


def _deliver_on_commit(message_id: int) -> None:
    from inbox.tasks import message_deliver

    transaction.on_commit(lambda: message_deliver.delay(message_id))


def mark_sent(*, message_id: int, message_ids: tuple[str, ...], billed: bool | None) -> None:
    """The platform accepted every part."""
    now = timezone.now()
    fields: dict = {"state": Message.State.SENT, "error": "", "sent_at": now, "part_ids": list(message_ids)}
    if message_ids and message_ids[0]:
        fields["platform_message_id"] = message_ids[0]
    if billed is not None:
        fields["billed"] = billed
    if billed:
        # The month's usage changed: the next page shows LINE's new figure (or, the cache being down, a figure at
        # most a minute old: never a reason not to record the send).
        cache_safely(cache.delete, quota_cache_key(Message.objects.values_list("channel_id", flat=True).get(pk=message_id)))
    with transaction.atomic():
        # A delivery/read receipt (or our own echo) may already have moved it further: never go back.
        Message.objects.filter(pk=message_id, state__in=[Message.State.QUEUED, Message.State.FAILED]).update(**fields)
        Message.objects.filter(pk=message_id).exclude(state__in=[Message.State.QUEUED, Message.State.FAILED]).update(
            part_ids=fields["part_ids"], sent_at=now
        )
        events.publish_on_commit(events.message_changed(Message.objects.get(pk=message_id)))


def settle_interrupted_send(*, message_id: int, parts: int) -> str:
    """A Messenger send whose worker died came back. Messenger has no idempotency key, so nothing is sent
    again: Meta's echoes (each part's id is recorded in `part_ids`) say what went out. Every part echoed:
    sent. Otherwise failed, and staff are asked to check the chat (a part may be out without its echo yet)."""
    message = Message.objects.get(pk=message_id)
    echoed = tuple(message.part_ids) or ((message.platform_message_id,) if message.platform_message_id else ())
    if len(echoed) >= parts:
        mark_sent(message_id=message_id, message_ids=echoed, billed=None)
        return "sent"
    mark_failed(message_id=message_id, error=_("The send was interrupted and may have gone out: check the chat before sending it again."))
    return "failed"


def settle_interrupted_reply(*, message_id: int) -> str:
    """A LINE reply whose worker died came back. Whether LINE took it can't be known: no retry key on replies,
    no echo, and sending it again is no test (its token works once, and has expired by the time the task comes
    back: LINE keeps one for a minute, the broker gives an unacknowledged task back after 20). So it is failed
    with that said, never marked failed for a reason LINE didn't give; sending it again is a person's call (a
    push, since the token is spent)."""
    mark_failed(
        message_id=message_id,
        error=_("The reply was interrupted and may have reached the customer (LINE can't tell): check the chat in LINE before sending it again."),
    )
    return "failed"


def record_partial(*, message_id: int, sent_ids: tuple[str, ...]) -> None:
    """Some parts went out before a failure: remember them so a retry sends only the rest."""
    if not sent_ids:
        return
    message = Message.objects.get(pk=message_id)
    Message.objects.filter(pk=message_id).update(part_ids=list(message.part_ids) + list(sent_ids))


def mark_failed(*, message_id: int, error: str) -> None:
    """The final failure of a send: the platform's reason is kept and shown."""
    with transaction.atomic():
        Message.objects.filter(pk=message_id, state=Message.State.QUEUED).update(state=Message.State.FAILED, error=error[:2000])
        events.publish_on_commit(events.message_changed(Message.objects.get(pk=message_id)))


def attachments_fetched(*, message_id: int, attachments: list[dict]) -> None:
    """Media of an inbound message is now in our storage: show it."""
    with transaction.atomic():
        Message.objects.filter(pk=message_id).update(attachments=attachments)
        events.publish_on_commit(events.message_changed(Message.objects.get(pk=message_id)))
