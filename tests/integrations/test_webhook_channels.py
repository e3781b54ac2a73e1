"""integrations.webhook_channels: each process keeps the platforms' active channels a second for the webhook
views. Changes made elsewhere (another process: simulated here with `QuerySet.update`, which sends no signal)
never make a webhook for a new channel or a new secret fail, and a disconnected channel stops being accepted
once the kept list is older than WEBHOOK_CHANNEL_CACHE_SECONDS."""
from __future__ import annotations

import multiprocessing
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from integrations import services as channel_services
from integrations import webhook_channels
from integrations.base import Platform
from integrations.models import Channel, WebhookReceipt
from tests.webhooks import line_body, line_text, messenger_body, messenger_text, post_line, post_messenger

pytestmark = pytest.mark.django_db

PSID = "6000000000000777"
LINE_USER = "U" + "7" * 32
LINE_SECRET = "8c570fa6dd201bb328f1c1eac23a96d8"


@pytest.fixture(autouse=True)
def kept_a_while(settings):
    settings.WEBHOOK_CHANNEL_CACHE_SECONDS = 60  # long enough that only a miss or a signal can refresh it
    webhook_channels.forget()
    yield
    webhook_channels.forget()


def messenger_delivery(client, page_id: str, mid: str, secret: str):
    return post_messenger(client, messenger_body(page_id, messenger_text(PSID, page_id, mid, "hi")), secret)


def line_delivery(client, channel, event_id: str, secret: str = LINE_SECRET):
    return post_line(client, channel, line_body(channel.line_destination, line_text(LINE_USER, event_id, "hi")), secret)


def statuses() -> dict[str, str]:
    return dict(WebhookReceipt.objects.values_list("dedupe_key", "status"))


class KeptChannelsTests:
    def test_deliveries_reuse_the_kept_channels_without_reading_them_again(self, client, messenger_channel):
        assert messenger_delivery(client, messenger_channel.external_id, "m_1", "test-app-secret").status_code == 200
        with CaptureQueriesContext(connection) as queries:
            assert [c.pk for c in webhook_channels.active(Platform.MESSENGER)] == [messenger_channel.pk]
        assert len(queries) == 0
        with CaptureQueriesContext(connection) as queries:
            webhook_channels.active(Platform.MESSENGER, fresh=True)
        assert len(queries) == 1

    def test_a_page_connected_elsewhere_a_moment_ago_is_not_missed(self, client, messenger_channel):
        assert messenger_delivery(client, messenger_channel.external_id, "m_1", "test-app-secret").status_code == 200
        other = channel_services.messenger_channel_add(
            name="Second page", page_id="104000000000002", app_secret="test-app-secret", verify_token="v2", access_token="T2", app_id="555000111",
            secondary=True,
        )
        Channel.objects.filter(pk=other.pk).update(is_active=False)
        messenger_delivery(client, messenger_channel.external_id, "m_2", "test-app-secret")  # keeps the list without it
        Channel.objects.filter(pk=other.pk).update(is_active=True)  # connected by another process: no signal here

        assert messenger_delivery(client, other.external_id, "m_3", "test-app-secret").status_code == 200
        receipt = WebhookReceipt.objects.get(dedupe_key__contains="m_3")
        assert receipt.status != WebhookReceipt.Status.IGNORED and receipt.channel_id == other.pk

    def test_a_secret_changed_elsewhere_is_accepted_at_once(self, client, messenger_channel, line_channel):
        assert messenger_delivery(client, messenger_channel.external_id, "m_1", "test-app-secret").status_code == 200
        assert line_delivery(client, line_channel, "01KKEPT0000000000000000001").status_code == 200
        Channel.objects.filter(pk=messenger_channel.pk).update(app_secret="rotated-app-secret")
        Channel.objects.filter(pk=line_channel.pk).update(app_secret="rotated-line-secret")

        assert messenger_delivery(client, messenger_channel.external_id, "m_2", "rotated-app-secret").status_code == 200
        assert line_delivery(client, line_channel, "01KKEPT0000000000000000002", "rotated-line-secret").status_code == 200
        assert len(statuses()) == 4
        # ...and the old secrets, now read again, are refused.
        assert messenger_delivery(client, messenger_channel.external_id, "m_3", "test-app-secret").status_code == 403
        assert line_delivery(client, line_channel, "01KKEPT0000000000000000003").status_code == 403

    def test_a_line_channel_connected_elsewhere_a_moment_ago_is_found(self, client, line_channel):
        assert line_delivery(client, line_channel, "01KKEPT0000000000000000001").status_code == 200
        other = channel_services.line_channel_add(name="Second", channel_id="2000000002", channel_secret="second-secret", access_token="T", destination="U" + "e" * 32)
        Channel.objects.filter(pk=other.pk).update(is_active=False)
        line_delivery(client, line_channel, "01KKEPT0000000000000000002")  # keeps the list without it
        Channel.objects.filter(pk=other.pk).update(is_active=True)

        assert line_delivery(client, other, "01KKEPT0000000000000000003", "second-secret").status_code == 200

    def test_a_channel_disconnected_elsewhere_is_refused_once_the_kept_list_is_old(self, client, settings, messenger_channel, line_channel):
        settings.WEBHOOK_CHANNEL_CACHE_SECONDS = 0.3
        assert messenger_delivery(client, messenger_channel.external_id, "m_1", "test-app-secret").status_code == 200
        assert line_delivery(client, line_channel, "01KKEPT0000000000000000001").status_code == 200
        Channel.objects.filter(pk__in=[messenger_channel.pk, line_channel.pk]).update(is_active=False)

        time.sleep(0.35)
        assert messenger_delivery(client, messenger_channel.external_id, "m_2", "test-app-secret").status_code == 403
        assert line_delivery(client, line_channel, "01KKEPT0000000000000000002").status_code == 404
        assert len(statuses()) == 2

    def test_a_channel_changed_in_this_process_is_seen_at_once(self, client, messenger_channel, line_channel):
        assert messenger_delivery(client, messenger_channel.external_id, "m_1", "test-app-secret").status_code == 200
        assert line_delivery(client, line_channel, "01KKEPT0000000000000000001").status_code == 200
        for channel in (messenger_channel, line_channel):
            channel.is_active = False
            channel.save()  # as the admin saves it

        assert messenger_delivery(client, messenger_channel.external_id, "m_2", "test-app-secret").status_code == 403
        assert line_delivery(client, line_channel, "01KKEPT0000000000000000002").status_code == 404

    def test_the_line_destination_learnt_from_a_delivery_is_kept(self, client, line_channel):
        Channel.objects.filter(pk=line_channel.pk).update(line_destination="")
        webhook_channels.forget()
        assert line_delivery(client, line_channel, "01KKEPT0000000000000000001").status_code == 200
        assert Channel.objects.get(pk=line_channel.pk).line_destination == line_channel.line_destination
        assert webhook_channels.line_channel(line_channel.pk).line_destination == line_channel.line_destination

    def test_an_id_no_row_can_have_is_not_found(self, client, line_channel):
        assert webhook_channels.line_channel(2**70) is None
        response = client.post(f"/webhooks/line/{2**70}/", data=b"{}", content_type="application/json")
        assert response.status_code == 404


def _kept_in_child(queue):
    queue.put(sorted(webhook_channels._kept))


def test_a_forked_process_starts_with_nothing_kept(messenger_channel):
    webhook_channels.active(Platform.MESSENGER)
    assert sorted(webhook_channels._kept) == [Platform.MESSENGER]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_kept_in_child, args=(queue,))
    child.start()
    try:
        assert queue.get(timeout=30) == []
    finally:
        child.join(timeout=30)


class ChangesInTransactionsAndDeletionsTests:
    pytestmark = pytest.mark.django_db(transaction=True)

    def test_a_channel_disconnected_in_a_transaction_here_is_refused_once_committed(self, client, messenger_channel):
        """The admin saves in a transaction, and post_save comes before the commit: a webhook thread reading the
        channels in between would keep the old row; they are forgotten again at the commit."""

        def webhook_thread_reads():
            webhook_channels.active(Platform.MESSENGER)
            connections.close_all()

        with transaction.atomic():
            messenger_channel.is_active = False
            messenger_channel.save()
            reader = threading.Thread(target=webhook_thread_reads)
            reader.start()
            reader.join()
        assert messenger_delivery(client, messenger_channel.external_id, "m_1", "test-app-secret").status_code == 403

    def test_a_channel_deleted_elsewhere_while_kept_here_is_never_a_500(self, messenger_channel, line_channel):
        client = Client(raise_request_exception=False)
        webhook_channels.active(Platform.MESSENGER)
        webhook_channels.active(Platform.LINE)
        # Deleted by another process: no signal in this one, the kept rows are gone from the database.
        Channel.objects.filter(pk__in=[messenger_channel.pk, line_channel.pk])._raw_delete(using="default")

        assert messenger_delivery(client, messenger_channel.external_id, "m_1", "test-app-secret").status_code == 403
        assert line_delivery(client, line_channel, "01KKEPT0000000000000000009").status_code == 404
        assert WebhookReceipt.objects.count() == 0
