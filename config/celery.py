"""Celery application. Without REDIS_URL, tasks run in-process (eager); see settings."""
import os

from billiard.process import current_process
from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("inbox")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Database connections in the worker. Celery's Django fixup closes them around every task (CELERY_DB_REUSE_MAX
# in settings turns that off); connecting costs about 5 ms, more than processing a webhook event (benchmark 1).
# A worker process (prefork) keeps its connection from task to task, checked before each (config/connections.py)
# and replaced when broken. Anywhere else (a solo or thread pool, as the tests run one) it is closed after each task
# as before: those threads come and go, and a connection left behind would keep the database open.
_keeps_connections = False


@worker_process_init.connect
def _worker_process_keeps_connections(**kwargs) -> None:
    # The solo pool sends this signal too, from the main process: only a prefork pool's process keeps.
    global _keeps_connections
    _keeps_connections = current_process().name != "MainProcess"
    if _keeps_connections:
        from config.startup import freeze_loaded_objects

        freeze_loaded_objects(collect=False)  # what it inherited: out of the collector's way (config/startup.py)


@task_prerun.connect
def _check_kept_connections(sender=None, **kwargs) -> None:
    if _keeps_connections and not _is_eager(sender):
        from config.connections import keep_working_connections

        keep_working_connections()


@task_postrun.connect
def _close_passing_connections(sender=None, **kwargs) -> None:
    if not _keeps_connections and not _is_eager(sender):
        from django.db import connections

        connections.close_all()


def _is_eager(task) -> bool:
    return task is None or bool(getattr(task.request, "is_eager", False))
