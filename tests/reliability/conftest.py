"""Fixtures for tests that run real Celery workers: a queue of the test's own, and workers to start (and kill)."""
from __future__ import annotations

import pytest
import redis

from config.celery import app as celery_app
from integrations import queueing
from tests.reliability.support import WorkerProcess, isolated_broker_url, unique_queue, use_broker


@pytest.fixture
def queue():
    """A queue of this test's own on the reliability broker; the app's Celery settings are restored after."""
    saved = (
        celery_app.conf.broker_url,
        celery_app.conf.broker_transport_options,
        celery_app.conf.task_default_queue,
        celery_app.conf.task_always_eager,
    )
    name = unique_queue()
    celery_app.conf.task_always_eager = False
    use_broker(isolated_broker_url(), queue=name)
    try:
        yield name
    finally:
        broker, options, default_queue, eager = saved
        use_broker(broker, queue=default_queue, transport_options=options)
        celery_app.conf.task_always_eager = eager
        redis.Redis.from_url(isolated_broker_url()).delete(name)


@pytest.fixture
def workers(tmp_path):
    started: list[WorkerProcess] = []

    def start(queue: str, **kwargs) -> WorkerProcess:
        worker = WorkerProcess(tmp_path, queue, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.stop()


@pytest.fixture
def queue_window(settings):
    """Set how long a web process holds receipts before queuing them (integrations.queueing); its batcher is
    made on first use with the settings of that moment, so start from none."""

    def use(seconds: float) -> None:
        queueing._batchers.clear()
        settings.WEBHOOK_QUEUE_WINDOW = seconds

    yield use
    queueing._batchers.clear()
