"""Who may be sent what, and how: the messaging-window and paid-message rules. Pure functions.

Messenger (platforms.md §1.3): a standard 24-hour window opens with each customer message; within it
anything may be sent (`messaging_type=RESPONSE`). After that, only a person may answer, for 7 days, with
`MESSAGE_TAG` + `HUMAN_AGENT`; automated messages may not. After 7 days nothing may be sent. The retired
tags (POST_PURCHASE_UPDATE, ACCOUNT_UPDATE, CONFIRMED_EVENT_UPDATE) are never used.

LINE (§2.2–2.3): a reply with the webhook's reply token is free but works once, within a minute of the
event; anything else is a push, counted against the monthly quota. Blocked users get nothing.

Every decision says why and until when; it is stored with the outbound message.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from enum import StrEnum

from django.utils.translation import gettext as _

STANDARD_WINDOW = dt.timedelta(hours=24)
HUMAN_AGENT_WINDOW = dt.timedelta(days=7)
# LINE accepts a reply token for one minute; keep a margin for the time the send itself takes.
LINE_REPLY_TOKEN_TTL = dt.timedelta(seconds=60)
LINE_REPLY_MARGIN = dt.timedelta(seconds=10)
HUMAN_AGENT_TAG = "HUMAN_AGENT"


class Window(StrEnum):
    STANDARD = "standard"  # Messenger 24 h
    HUMAN_AGENT = "human_agent"  # Messenger 24 h – 7 d, a person only
    CLOSED = "closed"
    LINE_REPLY = "line_reply"  # free
    LINE_PUSH = "line_push"  # paid


class Sender(StrEnum):
    PERSON = "person"  # typed by staff in our inbox
    AUTOMATED = "automated"  # order links, notifications, anything the system sends


@dataclass(frozen=True)
class Decision:
    allowed: bool
    window: Window
    reason: str
    expires_at: dt.datetime | None = None  # the decision holds until then
    messaging_type: str = ""
    tag: str = ""
    use_reply_token: bool = False
    billed: bool = False

    def as_dict(self) -> dict:
        data = {field.name: getattr(self, field.name) for field in fields(self)}  # asdict() deep-copies: per event
        data["window"] = self.window.value
        data["expires_at"] = self.expires_at.isoformat() if self.expires_at else None
        return data


def messenger_decision(
    *, last_inbound_at: dt.datetime | None, now: dt.datetime, sender: Sender, last_engaged_at: dt.datetime | None = None
) -> Decision:
    """`last_engaged_at`: the customer's last reaction or referral, which open the 24-hour window as a message does
    (platforms.md), but not the human agent's 7 days, which count from a message."""
    engaged_later = last_engaged_at is not None and (last_inbound_at is None or last_engaged_at > last_inbound_at)
    opened_at = last_engaged_at if engaged_later else last_inbound_at
    if opened_at is None:
        return Decision(False, Window.CLOSED, _("The customer has not written to this page yet, so nothing can be sent."))
    standard_end = opened_at + STANDARD_WINDOW
    if now < standard_end:
        reason = (
            _("Within 24 hours of the customer's last reaction or visit from an ad or link.")
            if engaged_later
            else _("Within 24 hours of the customer's last message.")
        )
        return Decision(True, Window.STANDARD, reason, standard_end, messaging_type="RESPONSE")
    if last_inbound_at is None:
        return Decision(
            False, Window.CLOSED, _("More than 24 hours since the customer reacted, and they have never written: nothing can be sent.")
        )
    human_end = last_inbound_at + HUMAN_AGENT_WINDOW
    if now < human_end and sender == Sender.PERSON:
        return Decision(
            True,
            Window.HUMAN_AGENT,
            _("More than 24 hours since the customer's last message: only a person may reply, until 7 days have passed."),
            human_end,
            messaging_type="MESSAGE_TAG",
            tag=HUMAN_AGENT_TAG,
        )
    if now < human_end:
        return Decision(
            False,
            Window.HUMAN_AGENT,
            _("Automated messages (such as order links) can only be sent within 24 hours of the customer's last message. "
              "A person can still type a reply; once the customer answers, the link can be sent."),
            human_end,
        )
    return Decision(
        False,
        Window.CLOSED,
        _("More than 7 days since the customer's last message: Messenger allows nothing until the customer writes again."),
    )


def line_decision(
    *, reply_token: str, reply_token_at: dt.datetime | None, is_following: bool, now: dt.datetime
) -> Decision:
    if not is_following:
        return Decision(False, Window.CLOSED, _("The customer has blocked this LINE account; messages would not arrive."))
    if reply_token and reply_token_at is not None:
        reply_end = reply_token_at + LINE_REPLY_TOKEN_TTL - LINE_REPLY_MARGIN
        if now < reply_end:
            return Decision(
                True, Window.LINE_REPLY, _("A free reply: the customer wrote less than a minute ago."), reply_end, use_reply_token=True
            )
    return Decision(True, Window.LINE_PUSH, _("A push message: it counts against the month's paid message quota."), billed=True)
