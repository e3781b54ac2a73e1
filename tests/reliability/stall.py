"""An inbound-event handler for a worker that is about to be killed: it does the real ingest (inside the
receipt's transaction, not yet committed), says so through a file, then waits to be killed."""
import os
import time
from pathlib import Path

from inbox.services.ingest import ingest_event


def ingest_then_stall(*, channel, event) -> None:
    ingest_event(channel=channel, event=event)
    Path(os.environ["RELIABILITY_STALL_FILE"]).write_text(event.dedupe_key)
    time.sleep(120)  # the test kills the worker long before this ends
