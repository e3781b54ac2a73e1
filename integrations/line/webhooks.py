"""`/webhooks/line/<channel id>/`: signed LINE event deliveries.

LINE wants a 200 within 2 seconds; this path only verifies, stores and enqueues.
An empty `events` list is the console's "Verify" button and answers 200.
"""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations import queueing, receipts, webhook_channels
from integrations.base import Platform
from integrations.line import parse, signature
from integrations.models import Channel
from integrations.parsing import MalformedPayload
from integrations.webhooks import BodyTooLarge, bad_request, decode_json, forbidden, read_body, too_large


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def line_webhook(request, channel_id: int):
    channel = webhook_channels.line_channel(channel_id)  # kept a second by this process, else read now
    if channel is None:
        raise Http404
    try:
        body = read_body(request)
    except BodyTooLarge:
        return too_large()
    header = request.headers.get("X-Line-Signature")
    if not signature.is_valid(body, header, channel.app_secret):
        # Checked again against the database before it is refused: the secret may have changed a moment ago.
        channel = webhook_channels.line_channel(channel_id, fresh=True)
        if channel is None or not signature.is_valid(body, header, channel.app_secret):
            return forbidden()

    headers = receipts.request_headers(request)
    data = decode_json(body)
    if data is None:
        receipts.keep_rejected(platform=Platform.LINE, channel=channel, body=body, headers=headers, error="body is not a JSON object")
        return bad_request("body is not a JSON object")
    try:
        events = parse.parse_body(data)
    except MalformedPayload as exc:
        receipts.keep_rejected(platform=Platform.LINE, channel=channel, body=body, headers=headers, error=str(exc))
        return bad_request(str(exc))

    destination = data.get("destination")
    if events and not channel.line_destination and isinstance(destination, str):
        Channel.objects.filter(pk=channel.pk, line_destination="").update(line_destination=destination)
        webhook_channels.forget()
    # One INSERT for the delivery (atomic and committed on its own), then one task for what it stored.
    try:
        new_ids = receipts.store_events(platform=Platform.LINE, events=[(channel, event) for event in events], headers=headers)
    except IntegrityError:  # the channel was deleted by another process a moment ago, still kept here
        if webhook_channels.line_channel(channel_id, fresh=True) is None:
            raise Http404 from None
        raise
    queueing.enqueue_processing(new_ids)
    return HttpResponse("OK", content_type="text/plain")
