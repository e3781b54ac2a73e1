"""The fast ingestion path: one INSERT and one task per delivery, the worker's per-receipt transactions, and
config.asgi's webhook handler (the webhook routes' middleware and view in one call, on threads that keep
their database connection)."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from celery.signals import task_prerun
from channels.testing import HttpCommunicator
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.models import Message
from integrations.line import signature as line_signature
from integrations.messenger.signature import sign
from integrations.models import WebhookReceipt
from integrations.tasks import webhook_receipt_process, webhook_receipts_sweep
from tests.webhooks import line_body, line_text, messenger_body, messenger_text, post_line, post_messenger

pytestmark = pytest.mark.django_db(transaction=True)

PSID = "6000000000000301"
LINE_DEST = "U8e742f61d673b39c7fff3cecb7536ef0"
LINE_USER = "U" + "3" * 32
LINE_SECRET = "8c570fa6dd201bb328f1c1eac23a96d8"


@pytest.fixture
def tasks_run():
    """(task name, args) of every task that runs (eagerly, as the tests' settings run them)."""
    ran: list[tuple[str, tuple]] = []

    def record(sender=None, task=None, args=None, **kwargs):
        ran.append((task.name, tuple(args or ())))

    task_prerun.connect(record, weak=False)
    yield ran
    task_prerun.disconnect(record)


def processing_tasks(ran):
    return [args for name, args in ran if name == "integrations.tasks.webhook_receipt_process"]


class OneInsertOneTaskTests:
    def test_a_delivery_with_a_known_and_a_new_event_stores_and_queues_only_the_new_one(self, client, messenger_channel, tasks_run):
        page = messenger_channel.external_id
        first = messenger_text(PSID, page, "m_known", "first")
        assert post_messenger(client, messenger_body(page, first), "test-app-secret").status_code == 200
        tasks_run.clear()

        second = messenger_text(PSID, page, "m_new", "second")
        assert post_messenger(client, messenger_body(page, first, second), "test-app-secret").status_code == 200

        new = WebhookReceipt.objects.get(dedupe_key__contains="m_new")
        assert WebhookReceipt.objects.count() == 2
        assert processing_tasks(tasks_run) == [([new.pk],)]  # one task, for the new receipt only
        assert sorted(Message.objects.values_list("text", flat=True)) == ["first", "second"]

    def test_several_new_events_go_in_one_task(self, client, messenger_channel, tasks_run):
        page = messenger_channel.external_id
        events = [messenger_text(f"60000000000004{n:02d}", page, f"m_batch_{n}", f"text {n}") for n in range(3)]
        assert post_messenger(client, messenger_body(page, *events), "test-app-secret").status_code == 200
        (args,) = processing_tasks(tasks_run)
        assert args == (sorted(WebhookReceipt.objects.values_list("pk", flat=True)),)
        assert len(args[0]) == 3
        assert set(WebhookReceipt.objects.values_list("status", flat=True)) == {WebhookReceipt.Status.PROCESSED}
        assert Message.objects.count() == 3

    def test_the_same_event_twice_in_one_delivery_is_stored_once(self, client, line_channel, tasks_run):
        event = line_text(LINE_USER, "01INGESTTWICE0000000000001", "once")
        assert post_line(client, line_channel, line_body(LINE_DEST, event, event), LINE_SECRET).status_code == 200
        assert WebhookReceipt.objects.count() == 1
        assert Message.objects.get().text == "once"
        assert processing_tasks(tasks_run) == [([WebhookReceipt.objects.get().pk],)]

    def test_a_redelivery_of_known_events_queues_nothing(self, client, line_channel, tasks_run):
        body = line_body(LINE_DEST, line_text(LINE_USER, "01INGESTREDELIVERED0000001", "hi"))
        assert post_line(client, line_channel, body, LINE_SECRET).status_code == 200
        tasks_run.clear()
        assert post_line(client, line_channel, body, LINE_SECRET).status_code == 200
        assert processing_tasks(tasks_run) == []

    def test_an_event_for_an_unknown_page_is_kept_ignored_beside_a_new_one(self, client, messenger_channel, tasks_run):
        page = messenger_channel.external_id
        ours = messenger_text(PSID, page, "m_ours", "ours")
        body = json.dumps(
            {"object": "page", "entry": [
                {"id": page, "time": 1, "messaging": [ours]},
                {"id": "999", "time": 1, "messaging": [messenger_text(PSID, "999", "m_other", "not ours")]},
            ]}
        ).encode()
        assert post_messenger(client, body, "test-app-secret").status_code == 200
        ignored = WebhookReceipt.objects.get(status=WebhookReceipt.Status.IGNORED)
        assert "m_other" in ignored.dedupe_key
        processed = WebhookReceipt.objects.get(status=WebhookReceipt.Status.PROCESSED)
        assert processing_tasks(tasks_run) == [([processed.pk],)]
        assert Message.objects.get().text == "ours"


class WorkerTests:
    def store(self, client, messenger_channel, *mids: str) -> list[int]:
        page = messenger_channel.external_id
        body = messenger_body(page, *[messenger_text(PSID, page, mid, mid) for mid in mids])
        assert post_messenger(client, body, "test-app-secret").status_code == 200
        return sorted(WebhookReceipt.objects.filter(dedupe_key__regex="|".join(mids)).values_list("pk", flat=True))

    def test_a_failing_receipt_does_not_hold_back_the_others_of_its_delivery(self, client, messenger_channel):
        bad, good = self.store(client, messenger_channel, "m_bad", "m_good")
        WebhookReceipt.objects.filter(pk__in=[bad, good]).update(status=WebhookReceipt.Status.RECEIVED)
        Message.objects.all().delete()
        WebhookReceipt.objects.filter(pk=bad).update(body='{"entry": 5}')

        assert webhook_receipt_process([bad, good]) == "failed,processed"
        assert list(Message.objects.values_list("text", flat=True)) == ["m_good"]
        failed = WebhookReceipt.objects.get(pk=bad)
        assert failed.status == WebhookReceipt.Status.FAILED and failed.attempts == 2 and "MalformedPayload" in failed.error

    def test_running_a_delivery_again_skips_what_is_done(self, client, messenger_channel):
        ids = self.store(client, messenger_channel, "m_one", "m_two")
        assert webhook_receipt_process(ids) == "skipped"
        assert webhook_receipt_process(ids + [10**9]) == "skipped"  # a receipt that is gone: skipped too
        assert Message.objects.count() == 2
        assert set(WebhookReceipt.objects.values_list("attempts", flat=True)) == {1}

    def test_a_tasks_receipts_share_one_transaction_one_lock_and_one_mark(self, client, messenger_channel):
        ids = self.store(client, messenger_channel, "m_a", "m_b", "m_c")
        WebhookReceipt.objects.filter(pk__in=ids).update(status=WebhookReceipt.Status.RECEIVED, attempts=0)
        Message.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            assert webhook_receipt_process(ids) == "processed"
        receipt_statements = [q["sql"] for q in captured.captured_queries if "integrations_webhookreceipt" in q["sql"]]
        assert len(receipt_statements) == 2, receipt_statements  # lock all, then mark all processed
        assert sorted(Message.objects.values_list("text", flat=True)) == ["m_a", "m_b", "m_c"]
        assert set(WebhookReceipt.objects.filter(pk__in=ids).values_list("status", "attempts")) == {(WebhookReceipt.Status.PROCESSED, 1)}

    def test_a_single_id_is_still_accepted(self, client, messenger_channel):
        """Tasks queued before deliveries were batched carry one receipt id (and the sweep still sends one)."""
        (receipt_id,) = self.store(client, messenger_channel, "m_single")
        WebhookReceipt.objects.filter(pk=receipt_id).update(status=WebhookReceipt.Status.RECEIVED)
        Message.objects.all().delete()
        assert webhook_receipt_process(receipt_id) == "processed"
        assert Message.objects.get().text == "m_single"


class SweepTests:
    """The beat's sweep queues what was stored but never processed (a broker outage, a killed worker)."""

    def left_unprocessed(self, client, messenger_channel, count: int) -> list[int]:
        """`count` stored receipts, RECEIVED and 10 minutes old, their messages not made: as after an outage."""
        page = messenger_channel.external_id
        for start in range(0, count, 100):
            events = [messenger_text(f"6000000000{n:06d}", page, f"m_swept_{n}", f"swept {n}") for n in range(start, min(count, start + 100))]
            assert post_messenger(client, messenger_body(page, *events), "test-app-secret").status_code == 200
        WebhookReceipt.objects.update(status=WebhookReceipt.Status.RECEIVED, attempts=0, received_at=timezone.now() - dt.timedelta(minutes=10))
        Message.objects.all().delete()
        return sorted(WebhookReceipt.objects.values_list("pk", flat=True))

    def test_a_backlog_is_queued_oldest_first_one_task_each_up_to_the_limit_per_run(self, client, messenger_channel, settings, tasks_run):
        settings.WEBHOOK_SWEEP_LIMIT = 250
        ids = self.left_unprocessed(client, messenger_channel, 300)
        tasks_run.clear()

        assert webhook_receipts_sweep() == 250
        assert processing_tasks(tasks_run) == [(pk,) for pk in ids[:250]]  # alone: one that kills a worker takes no other down
        assert Message.objects.count() == 250

        assert webhook_receipts_sweep() == 50  # the next run: the rest
        assert webhook_receipts_sweep() == 0
        assert Message.objects.count() == 300
        assert set(WebhookReceipt.objects.values_list("status", "attempts")) == {(WebhookReceipt.Status.PROCESSED, 1)}

    def test_recent_done_and_exhausted_receipts_are_left_alone(self, client, messenger_channel, tasks_run):
        recent, done, exhausted, failed = self.left_unprocessed(client, messenger_channel, 4)
        WebhookReceipt.objects.filter(pk=recent).update(received_at=timezone.now())
        WebhookReceipt.objects.filter(pk=done).update(status=WebhookReceipt.Status.PROCESSED)
        WebhookReceipt.objects.filter(pk=exhausted).update(status=WebhookReceipt.Status.FAILED, attempts=5)
        WebhookReceipt.objects.filter(pk=failed).update(status=WebhookReceipt.Status.FAILED, attempts=2)
        tasks_run.clear()
        assert webhook_receipts_sweep() == 1
        assert processing_tasks(tasks_run) == [(failed,)]

    def test_the_beat_runs_the_sweep(self):
        """Recovery after an outage depends on it (tests/reliability): every scheduled task exists, the sweep among them."""
        from config.celery import app

        app.loader.import_default_modules()
        entries = {entry["task"]: entry for entry in app.conf.beat_schedule.values()}
        sweep = entries["integrations.tasks.webhook_receipts_sweep"]
        assert sweep["schedule"] <= 300
        assert sweep["options"]["expires"] < sweep["schedule"]  # sweeps held back by a worker outage don't pile up
        assert set(entries) <= set(app.tasks), set(entries) - set(app.tasks)


class WebhookHandlerTests:
    """Through the ASGI application, as daphne serves it."""

    @pytest.fixture
    def handler(self, settings, monkeypatch):
        import config.asgi

        settings.WEBHOOK_THREADS = 1
        handler = config.asgi.WebhookHandler()
        monkeypatch.setattr(config.asgi, "webhook_asgi_app", handler)
        yield handler
        handler.executor.submit(lambda: connection.close()).result()  # the thread's kept connection
        handler.executor.shutdown()

    def db_connection_of_handler_thread(self, handler):
        return handler.executor.submit(lambda: connection.connection).result()

    async def post(self, path: str, body: bytes, headers: dict[str, str]):
        from config.asgi import application

        communicator = HttpCommunicator(
            application, "POST", path, body=body,
            headers=[(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), *[(k.lower().encode(), v.encode()) for k, v in headers.items()]],
        )
        return await communicator.get_response(timeout=10)

    async def test_webhooks_are_served_with_the_projects_middleware_and_a_kept_connection(self, handler, messenger_channel):
        from asgiref.sync import sync_to_async

        page = messenger_channel.external_id
        body = messenger_body(page, messenger_text(PSID, page, "m_asgi_1", "through daphne's door"))
        response = await self.post("/webhooks/messenger/", body, {"X-Hub-Signature-256": sign(body, "test-app-secret")})
        assert response["status"] == 200 and response["body"] == b"EVENT_RECEIVED"
        headers = {k.decode().lower(): v.decode() for k, v in response["headers"]}
        # The same security headers as every other page (the middleware chain ran, synchronously).
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        assert "default-src 'self'" in headers["content-security-policy"]

        first = await sync_to_async(self.db_connection_of_handler_thread)(handler)
        body = messenger_body(page, messenger_text(PSID, page, "m_asgi_2", "again"))
        response = await self.post("/webhooks/messenger/", body, {"X-Hub-Signature-256": sign(body, "test-app-secret")})
        assert response["status"] == 200
        # Django's standard handler would have closed it at the end of the request (CONN_MAX_AGE=0).
        assert first is not None and await sync_to_async(self.db_connection_of_handler_thread)(handler) is first

        texts = await sync_to_async(lambda: sorted(Message.objects.values_list("text", flat=True)))()
        assert texts == ["again", "through daphne's door"]

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite connections can't be dropped by a server")
    async def test_a_connection_the_database_dropped_is_replaced_before_the_next_delivery(self, handler, line_channel):
        """A restart, a failover or an idle timeout ends the thread's kept connection between two deliveries: the
        next one is stored all the same (LINE doesn't redeliver an event answered with a 500)."""
        from asgiref.sync import sync_to_async

        def line_delivery(event_id: str) -> tuple[bytes, dict]:
            body = line_body(line_channel.line_destination, line_text("U" + "d" * 32, event_id, "hello again"))
            return body, {"X-Line-Signature": line_signature.sign(body, "8c570fa6dd201bb328f1c1eac23a96d8")}

        body, headers = line_delivery("01KDROPPEDCONNECTION0001")
        assert (await self.post(f"/webhooks/line/{line_channel.pk}/", body, headers))["status"] == 200
        pid = await sync_to_async(lambda: handler.executor.submit(lambda: connection.connection.info.backend_pid).result())()

        def terminate():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        await sync_to_async(terminate)()

        body, headers = line_delivery("01KDROPPEDCONNECTION0002")
        assert (await self.post(f"/webhooks/line/{line_channel.pk}/", body, headers))["status"] == 200
        stored = await sync_to_async(lambda: WebhookReceipt.objects.count())()
        assert stored == 2

    async def test_bad_input_through_the_handler_is_refused_not_a_500(self, handler, messenger_channel):
        body = b'{"object": "page", "entry": ['
        assert (await self.post("/webhooks/messenger/", body, {"X-Hub-Signature-256": sign(body, "test-app-secret")}))["status"] == 400
        assert (await self.post("/webhooks/messenger/", body, {"X-Hub-Signature-256": sign(body, "wrong")}))["status"] == 403
        assert (await self.post("/webhooks/line/999999/", b"{}", {}))["status"] == 404


def test_a_broken_connection_is_dropped_and_a_working_one_kept():
    from config.connections import keep_working_connections

    connection.ensure_connection()
    raw = connection.connection
    keep_working_connections()
    assert connection.connection is raw  # working: kept

    connection.errors_occurred = True  # an error happened, but the connection still answers
    keep_working_connections()
    assert connection.connection is raw and not connection.errors_occurred

    connection.set_autocommit(False)  # a request left a transaction open: not reused as it is
    keep_working_connections()
    assert connection.connection is None  # dropped; the next query reconnects
    assert WebhookReceipt.objects.count() == 0 and connection.get_autocommit()

    if connection.vendor == "postgresql":  # SQLite can't tell a closed connection (is_usable is always true)
        raw = connection.connection
        raw.close()  # the server went away
        connection.errors_occurred = True
        keep_working_connections()
        assert connection.connection is None
        assert WebhookReceipt.objects.count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite connections can't be dropped by a server")
def test_a_busy_connection_is_checked_without_a_round_trip_and_a_quiet_one_with_select_1(monkeypatch):
    """Under load the check costs no statement: a glance at the socket. `SELECT 1` when the connection is new to
    the check, quiet for a while, had an error, or the server has spoken (it ended the session)."""
    import time

    from django.db import connections

    from config import connections as kept

    asked = []
    real_check = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: asked.append(1) or real_check())
    connection.close()
    connection.ensure_connection()  # a new session
    kept.keep_working_connections()
    kept.keep_working_connections()
    kept.keep_working_connections()
    assert len(asked) == 1  # the first check of this session only

    session, checked_at = connection.last_check
    connection.last_check = (session, checked_at - kept.QUIET_SECONDS - 1)  # idle since
    kept.keep_working_connections()
    assert len(asked) == 2
    connection.errors_occurred = True
    kept.keep_working_connections()
    assert len(asked) == 3 and connection.connection is not None

    pid = connection.connection.info.backend_pid
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            for _ in range(50):  # until the backend has gone
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.1)
    finally:
        other.close()
    kept.keep_working_connections()  # busy a moment ago, but the server ended it: noticed, dropped
    assert len(asked) == 4 and connection.connection is None
    assert WebhookReceipt.objects.count() == 0  # and the next query reconnects


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite connections have no socket")
def test_a_working_connection_on_a_descriptor_above_1023_is_kept():
    """A busy web process has many sockets: select.select() would refuse a descriptor over 1023 and the check
    would drop a healthy connection before every webhook."""
    import os

    from config import connections as kept

    connection.close()
    fillers = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]  # take the lowest free descriptors
    try:
        connection.ensure_connection()
        raw = connection.connection
        assert raw.fileno() >= 1024
        kept.keep_working_connections()  # new to the check: SELECT 1
        kept.keep_working_connections()  # a moment later: the socket glance
        assert connection.connection is raw
    finally:
        for fd in fillers:
            os.close(fd)


class WorkerConnectionTests:
    """config/celery.py: a prefork worker process keeps its database connection from task to task (checked
    before each); elsewhere it is closed after each task; Celery's own closing is off (CELERY_DB_REUSE_MAX)."""

    @pytest.fixture
    def in_worker_process(self, monkeypatch):
        import config.celery

        monkeypatch.setattr(config.celery, "_keeps_connections", True)  # as worker_process_init sets it

    def test_celerys_django_fixup_no_longer_closes_the_connection_around_tasks(self):
        from celery.fixups.django import DjangoWorkerFixup

        from config.celery import app

        connection.ensure_connection()
        raw = connection.connection
        fixup = DjangoWorkerFixup(app)
        for _ in range(10):
            fixup.on_task_prerun(webhook_receipt_process)
            fixup.on_task_postrun(webhook_receipt_process)
        assert connection.connection is raw

    @pytest.mark.usefixtures("in_worker_process")
    def test_a_worker_process_keeps_a_working_connection_and_replaces_a_dropped_one(self):
        from celery.signals import task_postrun, task_prerun

        connection.ensure_connection()
        raw = connection.connection
        task_prerun.send(sender=webhook_receipt_process, task_id="t1", task=webhook_receipt_process, args=(), kwargs={})
        task_postrun.send(sender=webhook_receipt_process, task_id="t1", task=webhook_receipt_process, args=(), kwargs={})
        assert connection.connection is raw  # kept for the next task

        if connection.vendor == "postgresql":  # SQLite can't tell a closed connection
            raw.close()  # the server went away between tasks
            task_prerun.send(sender=webhook_receipt_process, task_id="t2", task=webhook_receipt_process, args=(), kwargs={})
            assert connection.connection is None  # dropped before the task, which then reconnects
            assert WebhookReceipt.objects.count() == 0

    def test_a_solo_pool_does_not_make_the_process_keep_its_connections(self, monkeypatch):
        """The solo pool sends worker_process_init too, from the main process (found by review: the in-process
        test worker of tests/integrations/test_celery_worker.py left every later test keeping connections)."""
        from celery.concurrency.solo import TaskPool

        import config.celery

        monkeypatch.setattr(config.celery, "_keeps_connections", False)
        TaskPool()  # what `celery worker --pool solo` and start_worker(pool="solo") build
        assert config.celery._keeps_connections is False

    def test_after_commit_work_of_an_event_never_stops_the_rest_of_its_batch(self, messenger_channel):
        """A task's receipts share one transaction: Django stops at the first after-commit callback that raises
        unless it is robust, so every callback the inbox registers for an event (live event, profile and media
        fetches, whose .delay() can fail with the broker) must be (found by review)."""
        from datetime import datetime, timezone as tz

        from inbox.services.ingest import ingest_event
        from integrations.base import Attachment, EventKind, InboundEvent, MessageKind, Platform

        event = InboundEvent(
            platform=Platform.MESSENGER, kind=EventKind.MESSAGE, channel_key=messenger_channel.external_id, user_id="6000000000009301",
            dedupe_key="m_hooks", message_id="m_hooks", message_kind=MessageKind.IMAGE, text="",
            attachments=(Attachment(type="image", content_id="c1"),), timestamp=datetime.now(tz.utc), raw={},
        )
        with pytest.raises(RuntimeError), transaction.atomic():  # rolled back: the callbacks never run
            ingest_event(channel=messenger_channel, event=event)
            hooks = connection.run_on_commit
            assert len(hooks) == 3 and all(robust for _, _, robust in hooks)  # profile, live event, media
            raise RuntimeError

    def test_elsewhere_the_connection_is_closed_after_each_task(self):
        from celery.signals import task_postrun

        connection.ensure_connection()
        task_postrun.send(sender=webhook_receipt_process, task_id="t3", task=webhook_receipt_process, args=(), kwargs={})
        assert connection.connection is None
