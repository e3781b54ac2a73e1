"""Small display helpers for the inbox templates."""
from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from inbox.selectors import conversation_window
from integrations.policy import Window

register = template.Library()


def short_duration(seconds: float) -> str:
    if seconds < 3600:
        return _("%(n)dm") % {"n": max(int(seconds // 60), 1)}
    if seconds < 86400:
        return _("%(n)dh") % {"n": int(seconds // 3600)}
    return _("%(n)dd") % {"n": int(seconds // 86400)}


@register.simple_tag
def window_chip(conversation, now) -> dict | None:
    """For a Messenger row: which window is open and how long it has left (None for LINE)."""
    if conversation.channel.platform != "messenger":
        return None
    decision = conversation_window(conversation, now=now)
    if decision.window == Window.CLOSED or decision.expires_at is None:
        return {"state": "closed", "label": _("closed"), "title": decision.reason}
    left = (decision.expires_at - now).total_seconds()
    if decision.window == Window.STANDARD:
        return {"state": "open", "label": short_duration(left), "title": _("24-hour window: %(left)s left") % {"left": short_duration(left)}}
    return {"state": "human", "label": short_duration(left), "title": _("Human agent only: %(left)s left of 7 days") % {"left": short_duration(left)}}
