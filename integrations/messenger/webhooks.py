"""`/webhooks/messenger/`: the subscription handshake (GET) and signed event deliveries (POST).

The POST path only verifies, stores and enqueues; Meta wants a 200 within a few seconds and retries
otherwise, so nothing slow (and no outbound HTTP call) happens here.
"""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from integrations import queueing, receipts, webhook_channels
from integrations.base import Platform
from integrations.messenger import parse, signature
from integrations.models import Channel
from integrations.parsing import MalformedPayload
from integrations.webhooks import BodyTooLarge, bad_request, decode_json, forbidden, read_body, too_large


@csrf_exempt
@require_http_methods(["GET", "POST"])
@transaction.non_atomic_requests
def messenger_webhook(request):
    if request.method == "GET":
        return handshake(request)
    return receive(request)


def handshake(request) -> HttpResponse:
    """Echo `hub.challenge` when the verify token belongs to a connected page."""
    mode = request.GET.get("hub.mode")
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    # "\x00" can't be in a stored token (PostgreSQL refuses it in a query, which would be a 500).
    known = token and "\x00" not in token and Channel.objects.filter(platform=Platform.MESSENGER, verify_token=token, is_active=True).exists()
    if mode != "subscribe" or not known:
        return HttpResponse("Forbidden", status=403, content_type="text/plain")
    return HttpResponse(challenge, content_type="text/plain")


def receive(request) -> HttpResponse:
    try:
        body = read_body(request)
    except BodyTooLarge:
        return too_large()
    header = request.headers.get("X-Hub-Signature-256")
    # Channels kept a second by this process first; a signature none of them matches is checked again against
    # the database (a page connected or a secret changed a moment ago) before it is refused.
    pages = _signed_pages(body, header, fresh=False) or _signed_pages(body, header, fresh=True)
    if pages is None:
        return forbidden()

    headers = receipts.request_headers(request)
    data = decode_json(body)
    if data is None:
        receipts.keep_rejected(platform=Platform.MESSENGER, body=body, headers=headers, error="body is not a JSON object")
        return bad_request("body is not a JSON object")
    try:
        events = parse.parse_body(data)
    except MalformedPayload as exc:
        receipts.keep_rejected(platform=Platform.MESSENGER, body=body, headers=headers, error=str(exc))
        return bad_request(str(exc))

    if any(event.channel_key not in pages for event in events):  # a page connected a moment ago?
        pages = _signed_pages(body, header, fresh=True) or pages

    def store(pages: dict[str, Channel]) -> list[int]:
        # One INSERT for the delivery (atomic and committed on its own), then one task for what it stored.
        return receipts.store_events(platform=Platform.MESSENGER, events=[(pages.get(e.channel_key), e) for e in events], headers=headers)

    try:
        new_ids = store(pages)
    except IntegrityError:  # a page deleted by another process a moment ago, still kept here: read them again
        pages = _signed_pages(body, header, fresh=True)
        if pages is None:
            return forbidden()
        new_ids = store(pages)
    queueing.enqueue_processing(new_ids)
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")


def _signed_pages(body: bytes, header: str | None, *, fresh: bool) -> dict[str, Channel] | None:
    """The pages (Page id -> channel) of the app secret that signed the body, among the active channels (those
    this process keeps, or read now if `fresh`); None if no secret matches. A page signed with another app's
    secret is not ours to take."""
    channels = [c for c in webhook_channels.active(Platform.MESSENGER, fresh=fresh) if c.app_secret]
    secret = signature.matching_secret(body, header, {c.app_secret for c in channels})
    if secret is None:
        return None
    return {c.external_id: c for c in channels if c.app_secret == secret}
