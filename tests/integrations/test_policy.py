"""The messaging-window policy, as a table: (situation) -> (allowed, window, messaging_type, tag)."""
import datetime as dt

import pytest

from integrations.policy import Sender, Window, line_decision, messenger_decision

NOW = dt.datetime(2026, 11, 25, 4, 0, tzinfo=dt.timezone.utc)
H = dt.timedelta(hours=1)

MESSENGER_TABLE = [
    # age of the customer's last message, sender, allowed, window, messaging_type, tag
    (None, Sender.PERSON, False, Window.CLOSED, "", ""),
    (None, Sender.AUTOMATED, False, Window.CLOSED, "", ""),
    (0 * H, Sender.PERSON, True, Window.STANDARD, "RESPONSE", ""),
    (23.9 * H, Sender.AUTOMATED, True, Window.STANDARD, "RESPONSE", ""),
    (23.9 * H, Sender.PERSON, True, Window.STANDARD, "RESPONSE", ""),
    (24 * H, Sender.PERSON, True, Window.HUMAN_AGENT, "MESSAGE_TAG", "HUMAN_AGENT"),
    (24 * H, Sender.AUTOMATED, False, Window.HUMAN_AGENT, "", ""),
    (6.9 * 24 * H, Sender.PERSON, True, Window.HUMAN_AGENT, "MESSAGE_TAG", "HUMAN_AGENT"),
    (6.9 * 24 * H, Sender.AUTOMATED, False, Window.HUMAN_AGENT, "", ""),
    (7 * 24 * H, Sender.PERSON, False, Window.CLOSED, "", ""),
    (30 * 24 * H, Sender.AUTOMATED, False, Window.CLOSED, "", ""),
]


@pytest.mark.parametrize("age,sender,allowed,window,messaging_type,tag", MESSENGER_TABLE)
def test_messenger_windows(age, sender, allowed, window, messaging_type, tag):
    last = None if age is None else NOW - age
    decision = messenger_decision(last_inbound_at=last, now=NOW, sender=sender)
    assert (decision.allowed, decision.window, decision.messaging_type, decision.tag) == (allowed, window, messaging_type, tag)
    assert decision.reason


def test_messenger_decision_says_until_when():
    last = NOW - 2 * H
    assert messenger_decision(last_inbound_at=last, now=NOW, sender=Sender.AUTOMATED).expires_at == last + 24 * H
    last = NOW - 30 * H
    assert messenger_decision(last_inbound_at=last, now=NOW, sender=Sender.PERSON).expires_at == last + 7 * 24 * H


ENGAGED_TABLE = [
    # age of the last message, age of the last reaction/referral, sender, allowed, window, tag
    (30 * H, 2 * H, Sender.AUTOMATED, True, Window.STANDARD, ""),  # a reaction reopens the 24 hours
    (30 * H, 2 * H, Sender.PERSON, True, Window.STANDARD, ""),
    (30 * H, 25 * H, Sender.PERSON, True, Window.HUMAN_AGENT, "HUMAN_AGENT"),  # the 7 days still count from the message
    (30 * H, 25 * H, Sender.AUTOMATED, False, Window.HUMAN_AGENT, ""),
    (8 * 24 * H, 25 * H, Sender.PERSON, False, Window.CLOSED, ""),  # a reaction doesn't stretch the 7 days
    (None, 2 * H, Sender.AUTOMATED, True, Window.STANDARD, ""),  # reacted to the page's message, never wrote
    (None, 25 * H, Sender.PERSON, False, Window.CLOSED, ""),
    (2 * H, 30 * H, Sender.AUTOMATED, True, Window.STANDARD, ""),  # an older reaction changes nothing
]


@pytest.mark.parametrize("message_age,engaged_age,sender,allowed,window,tag", ENGAGED_TABLE)
def test_a_reaction_or_referral_opens_the_24_hours_only(message_age, engaged_age, sender, allowed, window, tag):
    last = None if message_age is None else NOW - message_age
    decision = messenger_decision(last_inbound_at=last, last_engaged_at=NOW - engaged_age, now=NOW, sender=sender)
    assert (decision.allowed, decision.window, decision.tag) == (allowed, window, tag)
    assert decision.reason
    if window == Window.STANDARD:
        assert decision.expires_at == max(t for t in (last, NOW - engaged_age) if t) + 24 * H


def test_no_retired_tag_is_ever_chosen():
    retired = {"POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE"}
    for hours in range(0, 24 * 8, 5):
        for sender in Sender:
            assert messenger_decision(last_inbound_at=NOW - hours * H, now=NOW, sender=sender).tag not in retired


S = dt.timedelta(seconds=1)
LINE_TABLE = [
    # reply token, its age, following, allowed, window, reply?, billed
    ("rt", 5 * S, True, True, Window.LINE_REPLY, True, False),
    ("rt", 49 * S, True, True, Window.LINE_REPLY, True, False),
    ("rt", 50 * S, True, True, Window.LINE_PUSH, False, True),  # too close to the 1-minute limit
    ("rt", 20 * 60 * S, True, True, Window.LINE_PUSH, False, True),
    ("", None, True, True, Window.LINE_PUSH, False, True),
    ("rt", 5 * S, False, False, Window.CLOSED, False, False),
]


@pytest.mark.parametrize("token,age,following,allowed,window,reply,billed", LINE_TABLE)
def test_line_reply_or_push(token, age, following, allowed, window, reply, billed):
    at = None if age is None else NOW - age
    decision = line_decision(reply_token=token, reply_token_at=at, is_following=following, now=NOW)
    assert (decision.allowed, decision.window, decision.use_reply_token, decision.billed) == (allowed, window, reply, billed)
