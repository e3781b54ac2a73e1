"""Webhook processing through a real Celery worker and the Redis broker (what production runs).

CI sets REDIS_URL; without it (a laptop with no Redis) this module is skipped, and CI refuses to run
without Redis at all (tests/conftest.py), so it can't be skipped silently there.
"""
import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_prerun
from django.conf import settings

from config.celery import app as celery_app
from inbox.models import Message
from integrations.models import WebhookReceipt
from tests.webhooks import messenger_body, messenger_text, post_messenger

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL); CI always sets it"),
]


@pytest.fixture
def worker():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = settings.REDIS_URL
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        celery_app.conf.task_always_eager = previous


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_ack_enqueues_and_the_worker_processes(worker, client, messenger_channel):
    ran: list[tuple[str, bool]] = []

    def record(sender=None, task=None, **kwargs):
        ran.append((task.name, bool(task.request.is_eager)))

    task_prerun.connect(record, weak=False)
    page = messenger_channel.external_id
    body = messenger_body(page, messenger_text("6000000000000009", page, "m_worker", "經過 Redis 的訊息"))
    assert post_messenger(client, body, "test-app-secret").status_code == 200
    # The ACK only stored it; the worker does the rest.
    assert wait_for(lambda: Message.objects.filter(platform_message_id="m_worker").exists())
    assert wait_for(lambda: WebhookReceipt.objects.get().status == WebhookReceipt.Status.PROCESSED)
    task_prerun.disconnect(record)
    assert ("integrations.tasks.webhook_receipt_process", False) in ran  # run by the worker, not in-process
