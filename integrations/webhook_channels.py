"""The channels a webhook delivery can belong to, as the webhook views see them: kept by each process for
`WEBHOOK_CHANNEL_CACHE_SECONDS` (1 s by default) instead of read for every delivery.

Reading a platform's active channels was one of the three statements of every webhook (benchmark 1,
docs/benchmarks.md). A shop has a handful of channels, and they change when someone connects, edits or
disconnects one, so each process keeps what it read for a second. What that can and can't change:

- A channel connected a moment ago is never missed: a delivery the kept list can't place (an unknown Page id
  or LINE channel, a signature no kept secret matches) is checked against a fresh read before it is refused or
  kept as ignored. So a new page's first events, and a secret changed in the admin, work at once.
- A channel changed in this process (saved or deleted through the ORM, or its LINE destination learnt) is
  forgotten at once and again when the change is committed (`forget_when_committed`, connected to the model's
  signals in `integrations.apps`); a forked child starts with nothing kept.
- A channel deleted in another process may still be kept here: storing a delivery for it breaks the foreign key,
  so the view reads the channels again and stores the delivery as it finds them (never a 500).
- A channel disconnected, or its secret changed, in another process keeps being accepted by this one for at
  most that second, like a delivery that arrived a moment before the change.

The kept channels carry only what a webhook needs (`receipts.WEBHOOK_CHANNEL_FIELDS`) and are shared by the
request threads: callers read them, never change them.
"""
from __future__ import annotations

import os
import time

from django.conf import settings
from django.db import transaction

from integrations import receipts
from integrations.base import Platform
from integrations.models import Channel

_kept: dict[str, tuple[float, list[Channel]]] = {}  # platform -> (read at, its active channels)


def active(platform: str, *, fresh: bool = False) -> list[Channel]:
    """The platform's active channels: those this process read less than WEBHOOK_CHANNEL_CACHE_SECONDS ago,
    or read now (`fresh`, nothing kept, or kept too long)."""
    kept = _kept.get(platform)
    now = time.monotonic()
    if fresh or kept is None or now - kept[0] >= settings.WEBHOOK_CHANNEL_CACHE_SECONDS:
        channels = receipts.active_channels(platform)
        _kept[platform] = (now, channels)  # one assignment: request threads see the old list or the new one
        return channels
    return kept[1]


def line_channel(pk: int, *, fresh: bool = False) -> Channel | None:
    """The active LINE channel with this id (the id in its webhook URL), or None. One not among the kept ones is
    looked for again in the database: it may have been connected a moment ago."""
    for read_now in ((True,) if fresh else (False, True)):
        found = [channel for channel in active(Platform.LINE, fresh=read_now) if channel.pk == pk]
        if found:
            return found[0]
    return None


def forget(**kwargs) -> None:
    """Read every platform's channels again on next use (a channel changed; a new process)."""
    _kept.clear()


def forget_when_committed(**kwargs) -> None:
    """For the model's signals: forget now, and again once the change is committed (the admin saves in a
    transaction; a webhook thread reading the channels before the commit would keep the old row)."""
    forget()
    transaction.on_commit(forget, using=kwargs.get("using"))


os.register_at_fork(after_in_child=forget)
