"""Settings for a Celery worker the reliability tests start in a child process (and may kill).

The project's settings, with the broker, queue and visibility timeout the test chose, and optionally an
inbound-event handler that stalls in the middle of processing (inside the receipt's transaction) so the
test can kill the worker at that exact point.
"""
import os

from config.settings import *  # noqa: F401,F403

CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = os.environ["RELIABILITY_BROKER_URL"]
CELERY_TASK_DEFAULT_QUEUE = os.environ["RELIABILITY_QUEUE"]
# A killed worker's unacknowledged task returns once a live worker sweeps the "unacked" set. kombu sweeps at
# start-up, then only every interval x throttle seconds (100 s by default), and skips a sweep while another
# worker on the same Redis database holds the sweep's lock: the test workers sweep every second instead.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("RELIABILITY_VISIBILITY_TIMEOUT", "3600")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
if os.environ.get("RELIABILITY_STALL_FILE"):
    INBOUND_EVENT_HANDLER = "tests.reliability.stall.ingest_then_stall"
# Task-level retries (inbox.tasks.retry_countdown) after 1, 2, 4 s instead of 30, 60, 120 s.
TASK_RETRY_BASE_SECONDS = int(os.environ.get("RELIABILITY_TASK_RETRY_BASE_SECONDS", "30"))
