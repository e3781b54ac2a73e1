"""Work that talks to the platforms, run by Celery after the writes that asked for it committed."""
from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from inbox.media import store_inbound_media
from inbox.models import Contact, Message
from inbox import events
from inbox.services import conversations, messaging
from inbox.services.ingest import own_metadata
from integrations.base import AuthError, Delivery, LinkButton, OutboundMessage, Platform, PlatformError
from integrations.models import Channel
from integrations.messenger.client import message_parts as messenger_parts
from integrations.registry import get_client

logger = logging.getLogger(__name__)

DELIVER_MAX_RETRIES = 3
PROFILE_MAX_RETRIES = 5


def retry_countdown(retries: int) -> int:
    # TASK_RETRY_BASE_SECONDS: only the reliability tests' workers lower it (tests/reliability/worker_settings.py).
    return int(getattr(settings, "TASK_RETRY_BASE_SECONDS", 30)) * (2**retries)


@shared_task(bind=True, name="inbox.tasks.message_deliver", max_retries=DELIVER_MAX_RETRIES)
def message_deliver(self, message_id: int) -> str:
    """Send a queued message. Retries reuse the stored retry key and skip parts already sent."""
    message = Message.objects.select_related("channel", "conversation__contact").filter(pk=message_id).first()
    if message is None or message.state != Message.State.QUEUED:
        return "skipped"
    image_url = next((a.get("url", "") for a in message.attachments if a.get("type") == "image"), "")
    buttons = tuple(LinkButton(label=a["title"], url=a["url"]) for a in message.attachments if a.get("type") == "button")
    outbound = OutboundMessage(text=message.text, image_url=image_url, buttons=buttons, metadata=own_metadata(message.pk))
    if _interrupted(self, message) and message.channel.platform == Platform.MESSENGER:
        # A worker died during this send (this task came back unacknowledged). Messenger has no idempotency
        # key: never send blindly again; Meta's echoes say which parts went out.
        return messaging.settle_interrupted_send(message_id=message.pk, parts=len(messenger_parts(outbound)))
    if _interrupted(self, message) and message.reply_token:
        # The same for a LINE reply: no retry key either, and no echo to tell. (A push carries its retry key:
        # sent again, LINE answers 409 for one it already accepted.)
        return messaging.settle_interrupted_reply(message_id=message.pk)
    delivery = Delivery(
        messaging_type=message.decision.get("messaging_type", ""),
        tag=message.decision.get("tag", ""),
        reply_token=message.reply_token,
        retry_key=str(message.retry_key) if message.retry_key else "",
    )
    Message.objects.filter(pk=message.pk).update(attempts=message.attempts + 1)
    try:
        result = get_client(message.channel).send(
            recipient_id=message.conversation.contact.platform_user_id,
            message=outbound,
            delivery=delivery,
            skip_parts=len(message.part_ids),
        )
    except PlatformError as error:
        messaging.record_partial(message_id=message.pk, sent_ids=error.sent_ids)
        if isinstance(error, AuthError):
            Channel.objects.filter(pk=message.channel_id).update(auth_error=str(error)[:500])
        if error.retryable and self.request.retries < DELIVER_MAX_RETRIES and not self.request.is_eager:
            raise self.retry(countdown=retry_countdown(self.request.retries)) from error
        messaging.mark_failed(message_id=message.pk, error=str(error))
        return "failed"
    parts = tuple(message.part_ids) + result.message_ids
    messaging.mark_sent(message_id=message.pk, message_ids=parts, billed=result.billed if message.retry_key else None)
    return "sent"


def _interrupted(task, message: Message) -> bool:
    """This run is a redelivery (its worker was lost) of a send a previous run had started."""
    redelivered = bool((task.request.delivery_info or {}).get("redelivered"))
    return redelivered and message.attempts > 0


@shared_task(bind=True, name="inbox.tasks.contact_profile_fetch", max_retries=PROFILE_MAX_RETRIES)
def contact_profile_fetch(self, contact_id: int) -> str:
    """Fill the contact's name and avatar from the platform. Failures are kept and retried, never fatal."""
    contact = Contact.objects.select_related("channel").filter(pk=contact_id).first()
    if contact is None:
        return "skipped"
    try:
        profile = get_client(contact.channel).get_profile(user_id=contact.platform_user_id)
    except PlatformError as error:
        Contact.objects.filter(pk=contact.pk).update(profile_error=str(error)[:500])
        if error.retryable and self.request.retries < PROFILE_MAX_RETRIES and not self.request.is_eager:
            raise self.retry(countdown=retry_countdown(self.request.retries)) from error
        return "failed"
    Contact.objects.filter(pk=contact.pk).update(
        display_name=profile.display_name or contact.display_name,
        avatar_url=profile.picture_url[:2000],
        language=profile.language,
        profile_fetched_at=timezone.now(),
        profile_error="",
    )
    return "fetched"


@shared_task(bind=True, name="inbox.tasks.message_media_fetch", max_retries=PROFILE_MAX_RETRIES)
def message_media_fetch(self, message_id: int) -> str:
    """Copy media LINE only serves through its content API into our storage, so the chat can show it."""
    message = Message.objects.select_related("channel").filter(pk=message_id).first()
    if message is None:
        return "skipped"
    client = get_client(message.channel)
    attachments = list(message.attachments)
    changed = False
    for attachment in attachments:
        content_id = attachment.get("content_id")
        if not content_id or attachment.get("url"):
            continue
        try:
            content = client.get_content(message_id=content_id)
        except PlatformError as error:
            if error.retryable and self.request.retries < PROFILE_MAX_RETRIES and not self.request.is_eager:
                raise self.retry(countdown=retry_countdown(self.request.retries)) from error
            attachment["error"] = str(error)[:200]
            changed = True
            continue
        attachment["url"] = store_inbound_media(content.data, content.content_type, name=f"{message.channel_id}-{content_id}")
        changed = True
    if changed:
        messaging.attachments_fetched(message_id=message.pk, attachments=attachments)
    return "fetched" if changed else "nothing"


@shared_task(name="inbox.tasks.conversations_due_stars")
def conversations_due_stars() -> int:
    """Starred conversations whose follow-up time has come go back to the top of the list."""
    return conversations.bring_due_stars_forward()


@shared_task(name="inbox.tasks.inbox_events_prune")
def inbox_events_prune() -> int:
    """Forget live events older than a day (a browser away longer reloads instead of catching up)."""
    return events.prune()


PROFILE_REFRESH_AGE = dt.timedelta(days=3)


@shared_task(name="inbox.tasks.contacts_profile_refresh")
def contacts_profile_refresh(limit: int = 200) -> int:
    """Fetch profiles that failed or have grown old (Messenger's picture URLs expire)."""
    stale = timezone.now() - PROFILE_REFRESH_AGE
    ids = list(
        Contact.objects.filter(Q(profile_fetched_at__isnull=True) | Q(profile_fetched_at__lt=stale), channel__is_active=True)
        .order_by(F("profile_fetched_at").asc(nulls_first=True))
        .values_list("pk", flat=True)[:limit]
    )
    for contact_id in ids:
        contact_profile_fetch.delay(contact_id)
    return len(ids)
