"""The end of a long-lived process's start-up (Daphne, the Celery worker): what it loaded is kept out of the
garbage collector's way.

A full collection (Python's generation 2) walks every object the collector tracks. A web process holds about
150,000 of them once Django, the URL conf, the ORM's models and the templates are loaded, and under load it ran
a full collection every couple of seconds, each holding the GIL for 70-530 ms while it found nothing to free
(benchmark 1, docs/benchmarks.md: 91 such pauses in one run, and the webhooks' worst answer times with them).
`gc.freeze()` moves the objects that exist at that point to a permanent generation the collector no longer
walks: they live as long as the process anyway. What is made afterwards is collected as before, cycles
included. A Celery pool process freezes what it inherited when it starts, without collecting first: a
collection would write to every inherited object and copy the parent's memory pages into each child.
`FREEZE_LOADED_OBJECTS` (settings) turns it off: the test process does, as it imports the app once and then makes
and drops objects for thousands of tests.
"""
import gc

from django.conf import settings


def freeze_loaded_objects(*, collect: bool = True) -> None:
    if not settings.FREEZE_LOADED_OBJECTS:
        return
    if collect:
        gc.collect()  # start-up's own garbage goes first: frozen, it would stay
    gc.freeze()
