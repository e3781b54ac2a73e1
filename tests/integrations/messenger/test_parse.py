"""Messenger webhook parsing, fixture by fixture, plus the shapes Meta documents but the fixtures don't show."""
import datetime as dt
import json
from pathlib import Path

import pytest

from integrations.base import Attachment, EventKind, MessageKind, Platform
from integrations.messenger.parse import parse_body
from integrations.parsing import MalformedPayload

FIXTURES = Path(__file__).parents[2] / "fixtures" / "messenger"
PAGE = "104857362918475"
PSID = "7294018365527103"
OUR_APP = "1480723916354082"
PAGE_INBOX_APP = "263902037430900"
STICKER_URL = (
    "https://scontent.xx.fbcdn.net/v/t39.1997-6/39178562_1505197616293642_5411344281094848512_n.png"
    "?_nc_cat=1&ccb=1-7&_nc_sid=ac3552&_nc_ohc=kq0ZQ2mTzXAQ7kNvgH7pFb1&_nc_ht=scontent.xx&oh=00_AYB3xK&oe=67F1A2B3"
)
LIKE_STICKER = "369239263222822"


def load(name):
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def parse_one(name):
    events = parse_body(load(name))
    assert len(events) == 1
    return events[0]


def utc(ms):
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(milliseconds=ms)


def body_with(event, *, list_key="messaging", time=1793686522630):
    return {"object": "page", "entry": [{"id": PAGE, "time": time, list_key: [event]}]}


def from_user(**fields):
    return {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1793686522318, **fields}


# --- fixtures -------------------------------------------------------------------------------------

def test_text_message():
    event = parse_one("text_message")
    assert event.platform == Platform.MESSENGER
    assert event.kind == EventKind.MESSAGE
    assert event.channel_key == PAGE
    assert event.user_id == PSID
    assert event.timestamp == dt.datetime(2026, 11, 3, 6, 15, 22, 318000, tzinfo=dt.timezone.utc)
    assert event.message_id == "m_kq2Vd8hJf0YbXw3rT5uQe1Lz7nPcA4sG9mRjK6oWy2BtH0vN5xE8iU3aF1lD7gC"
    assert event.message_kind == MessageKind.TEXT
    assert event.text == "請問這件碎花洋裝 M 號還有貨嗎？🌸"
    assert event.reply_to == "m_3TzR8wQp5Nk1Yv6Bc0Xj9Hf2Ls4Dg7Ma8Ue5Io1Pr3Ky6Wt0Zn2Vb9Qc4Jh7Fx"
    assert event.attachments == ()
    assert event.dedupe_key == f"{PAGE}:message:{event.message_id}"
    assert not event.is_standby
    assert event.app_id == event.metadata == event.payload == event.reply_token == ""


def test_quick_reply_payload():
    event = parse_one("quick_reply")
    assert event.kind == EventKind.MESSAGE
    assert event.text == "7-11 取貨"
    assert event.payload == "SHIPPING_METHOD:cvs_711"


def test_image():
    event = parse_one("image")
    assert event.message_kind == MessageKind.IMAGE
    assert event.text == ""
    [attachment] = event.attachments
    assert attachment.type == "image"
    assert attachment.url.startswith("https://scontent.xx.fbcdn.net/v/t1.15752-9/465871230_")


def test_sticker():
    event = parse_one("sticker")
    assert event.message_kind == MessageKind.STICKER
    assert event.attachments == (Attachment(type="sticker", url=STICKER_URL, sticker_id=LIKE_STICKER),)


def test_transition_sticker_collapses_into_one_sticker():
    event = parse_one("sticker_transition")
    assert event.message_kind == MessageKind.STICKER
    assert event.attachments == (Attachment(type="sticker", url=STICKER_URL, sticker_id=LIKE_STICKER),)


def test_file():
    event = parse_one("file")
    assert event.message_kind == MessageKind.FILE
    [attachment] = event.attachments
    assert attachment.type == "file"
    assert attachment.url.startswith("https://cdn.fbsbx.com/")


def test_echo_from_our_app():
    event = parse_one("echo_app")
    assert event.kind == EventKind.ECHO
    assert event.channel_key == PAGE
    assert event.user_id == PSID  # the recipient: the customer, not the Page that sent it
    assert event.app_id == OUR_APP  # sent by Meta as a JSON number
    assert event.metadata == "outbound:8f3c2a71-5d4e-4b9a-a1c6-2e7f90d4b318"
    assert event.text == "有的喔！M 號還有 3 件，要幫您保留嗎？"
    assert event.message_kind == MessageKind.TEXT
    assert event.dedupe_key == f"{PAGE}:echo:m_Ex1Zq5Wr8Kc3Xv6Bn9Lm2Jd7Fs0Gp4Ya8Ue1Io5Qy9Wt2Rk6Np0Zb3Vc7Mx4Ja"


def test_echo_from_the_page_inbox():
    event = parse_one("echo_page_inbox")
    assert event.kind == EventKind.ECHO
    assert event.user_id == PSID
    assert event.app_id == PAGE_INBOX_APP
    assert event.metadata == ""
    assert event.text == "您好，我是小編 Amy，已經幫您保留到週五 🙏"


def test_postback():
    event = parse_one("postback")
    assert event.kind == EventKind.POSTBACK
    assert event.user_id == PSID
    assert event.message_kind == MessageKind.POSTBACK
    assert event.payload == "CONFIRM_ORDER:SO-20261103-0042"
    assert event.text == "確認訂單"
    assert event.message_id == "m_Pb2Zq6Wr9Kc4Xv7Bn0Lm3Jd8Fs1Gp5Ya9Ue2Io6Qy0Wt3Rk7Np1Zb4Vc8Mx5Jc"
    assert event.dedupe_key == f"{PAGE}:postback:{event.message_id}"


def test_delivery():
    event = parse_one("delivery")
    assert event.kind == EventKind.DELIVERY
    assert event.user_id == PSID
    assert event.watermark == utc(1793686762318)
    assert event.mids == ("m_Ex1Zq5Wr8Kc3Xv6Bn9Lm2Jd7Fs0Gp4Ya8Ue1Io5Qy9Wt2Rk6Np0Zb3Vc7Mx4Ja",)
    assert event.message_kind is None
    assert event.dedupe_key == f"{PAGE}:delivery:{PSID}:1793686762318"


def test_read():
    event = parse_one("read")
    assert event.kind == EventKind.READ
    assert event.watermark == utc(1793686762318)
    assert event.mids == ()
    assert event.dedupe_key == f"{PAGE}:read:{PSID}:1793686762318"


def test_standby_message():
    event = parse_one("standby_message")
    assert event.kind == EventKind.MESSAGE
    assert event.is_standby
    assert event.text == "我想改地址，可以嗎？"
    assert "standby" in event.raw["entry"][0] and "messaging" not in event.raw["entry"][0]


def test_standby_postback_has_no_payload():
    event = parse_one("standby_postback")
    assert event.kind == EventKind.POSTBACK
    assert event.is_standby
    assert event.payload == ""
    assert event.text == "聯絡真人客服"
    assert event.message_id == ""
    assert event.dedupe_key.startswith(f"{PAGE}:postback:{PSID}:1793686947318:")


def test_pass_thread_control():
    event = parse_one("pass_thread_control")
    assert event.kind == EventKind.HANDOVER
    assert event.user_id == PSID
    assert event.payload == "pass_thread_control"
    assert event.app_id == OUR_APP  # the new owner
    assert event.metadata == "handback after address change"
    assert event.dedupe_key.startswith(f"{PAGE}:handover:{PSID}:1793686952318:")


def test_batched_body_gives_one_event_per_entry_event():
    first, second = parse_body(load("batched"))
    assert (first.channel_key, first.user_id, first.text) == (PAGE, PSID, "好的，那我下單了")
    assert (second.channel_key, second.user_id, second.text) == ("231094857716203", "6812093475512846", "運費多少？")
    assert first.raw["entry"][0]["id"] == PAGE
    assert second.raw["entry"][0]["id"] == "231094857716203"
    assert [parse_body(e.raw) for e in (first, second)] == [[first], [second]]


def test_reaction_is_read_for_its_action_emoji_and_message():
    event = parse_one("reaction")
    assert event.kind == EventKind.REACTION
    assert event.user_id == PSID
    assert event.timestamp == utc(1793686792318)
    assert (event.payload, event.reply_to) == ("react", event.raw["entry"][0]["messaging"][0]["reaction"]["mid"])
    assert event.text  # the emoji, or the reaction's name
    # Keyed by the event, not the reacted message's mid (a reaction and its undoing share that).
    assert event.dedupe_key.startswith(f"{PAGE}:reaction:{PSID}:1793686792318:")


def test_unreact_and_referral():
    [unreact] = parse_body(body_with(from_user(reaction={"reaction": "love", "emoji": "❤", "action": "unreact", "mid": "m_1"})))
    assert (unreact.kind, unreact.payload, unreact.text, unreact.reply_to) == (EventKind.REACTION, "unreact", "❤", "m_1")
    [referral] = parse_body(body_with(from_user(referral={"ref": "fall-sale", "source": "SHORTLINK", "type": "OPEN_THREAD"})))
    assert (referral.kind, referral.payload, referral.text, referral.user_id) == (EventKind.REFERRAL, "fall-sale", "SHORTLINK", PSID)
    assert parse_body(referral.raw) == [referral] and parse_body(unreact.raw) == [unreact]
    [odd] = parse_body(body_with(from_user(reaction={"reaction": "love", "action": "wave"})))
    assert odd.kind == EventKind.OTHER


@pytest.mark.parametrize("name", sorted(path.stem for path in FIXTURES.glob("*.json")))
def test_raw_is_a_body_that_parses_back_to_the_same_event(name):
    for event in parse_body(load(name)):
        assert event.raw["object"] == "page"
        assert parse_body(event.raw) == [event]
        assert event.timestamp.tzinfo is dt.timezone.utc


# --- shapes beyond the fixtures -------------------------------------------------------------------

@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "page",
        {},
        {"object": "instagram", "entry": []},
        {"object": "page"},
        {"object": "page", "entry": {}},
        {"object": "page", "entry": [None]},
        {"object": "page", "entry": [{"messaging": []}]},
        {"object": "page", "entry": [{"id": "", "messaging": []}]},
        {"object": "page", "entry": [{"id": True, "messaging": []}]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": {}}]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": [], "standby": None}]},
    ],
)
def test_a_body_that_is_not_a_page_webhook_is_malformed(body):
    with pytest.raises(MalformedPayload):
        parse_body(body)


@pytest.mark.parametrize("entry", [{"id": PAGE, "time": 1}, {"id": PAGE, "changes": [{"field": "feed"}]}])
def test_an_entry_of_another_field_is_kept_as_one_other_event(entry):
    """Never refused: Meta unsubscribes a Page whose webhook keeps answering errors."""
    [event] = parse_body({"object": "page", "entry": [entry]})
    assert (event.kind, event.channel_key, event.user_id) == (EventKind.OTHER, PAGE, "")
    assert parse_body(event.raw) == [event]


def test_malformed_payload_is_a_value_error():
    assert issubclass(MalformedPayload, ValueError)


def test_empty_entry_list_and_empty_messaging_give_no_events():
    assert parse_body({"object": "page", "entry": []}) == []
    assert parse_body({"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": []}]}) == []


def test_a_numeric_page_id_is_read_as_a_string():
    entry = {"id": int(PAGE), "messaging": [from_user(read={"watermark": 5})]}
    [event] = parse_body({"object": "page", "entry": [entry]})
    assert event.channel_key == PAGE
    assert event.kind == EventKind.READ


@pytest.mark.parametrize(
    "event",
    [
        None,
        "hello",
        [],
        {},
        from_user(),
        from_user(message="hi"),
        from_user(delivery={"mids": ["m_1"]}),
        from_user(read={"watermark": "1793686522318"}),
        from_user(read={"watermark": 10**20}),
        from_user(optin={"type": "notification_messages", "payload": "restock"}),
        from_user(message_edit={"mid": "m_1", "text": "edited", "num_edit": 1}),
        {"recipient": {"id": PAGE}, "timestamp": 1793686522318, "policy_enforcement": {"action": "block"}},
        {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "message": {"mid": "m_1", "text": "no timestamp"}},
        {"recipient": {"id": PAGE}, "timestamp": 1793686522318, "message": {"mid": "m_1", "text": "no sender"}},
    ],
)
def test_events_that_are_not_understood_become_other(event):
    [parsed] = parse_body(body_with(event))
    assert parsed.kind == EventKind.OTHER
    assert parsed.channel_key == PAGE
    assert parsed.dedupe_key.startswith(f"{PAGE}:other:")
    assert parse_body(parsed.raw) == [parsed]


def test_an_event_without_its_own_timestamp_takes_the_entry_time():
    [parsed] = parse_body(body_with({"sender": {"id": PSID}, "message": {"mid": "m_1"}}, time=1793686522630))
    assert parsed.timestamp == utc(1793686522630)
    assert parsed.dedupe_key.startswith(f"{PAGE}:other:{PSID}:1793686522630:")


def test_an_event_without_any_time_is_dated_at_the_epoch():
    body = {"object": "page", "entry": [{"id": PAGE, "messaging": [{"sender": {"id": PSID}}]}]}
    [parsed] = parse_body(body)
    assert parsed.timestamp == dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    assert "time" not in parsed.raw["entry"][0]
    assert parse_body(parsed.raw) == [parsed]


def test_an_echo_with_the_old_sender_recipient_order_still_names_the_customer():
    event = from_user(message={"is_echo": True, "app_id": PAGE_INBOX_APP, "mid": "m_echo", "text": "hi"})
    [parsed] = parse_body(body_with(event))
    assert (parsed.kind, parsed.user_id) == (EventKind.ECHO, PSID)


def test_a_legacy_image_with_a_sticker_id_is_a_sticker():
    attachment = {"type": "image", "payload": {"url": STICKER_URL, "sticker_id": 369239263222822}}
    [parsed] = parse_body(body_with(from_user(message={"mid": "m_1", "attachments": [attachment]})))
    assert parsed.message_kind == MessageKind.STICKER
    assert parsed.attachments == (Attachment(type="sticker", url=STICKER_URL, sticker_id=LIKE_STICKER),)


def test_images_without_a_sticker_stay_images_in_order():
    attachments = [
        {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/a.jpg"}},
        {"type": "video", "payload": {"url": "https://video.xx.fbcdn.net/b.mp4"}},
    ]
    [parsed] = parse_body(body_with(from_user(message={"mid": "m_1", "text": "看這個", "attachments": attachments})))
    assert parsed.message_kind == MessageKind.IMAGE
    assert [a.type for a in parsed.attachments] == ["image", "video"]
    assert parsed.text == "看這個"


def test_fallback_location_template_and_unknown_attachments():
    attachments = [
        {"type": "fallback", "title": "秋冬新品上市", "url": "https://shop.example.tw/new", "payload": None},
        {"type": "location", "payload": {"coordinates": {"lat": 25.033976, "long": 121.5645389}}},
        {"type": "template", "payload": {"template_type": "button", "text": "訂單已成立", "buttons": []}},
        {"type": "ig_reel", "payload": {"url": "https://lookaside.fbsbx.com/ig_reel", "title": "新品開箱"}},
        {"type": 3},
        "not an attachment",
    ]
    [parsed] = parse_body(body_with(from_user(message={"mid": "m_1", "attachments": attachments})))
    assert parsed.message_kind == MessageKind.OTHER  # a fallback comes first
    assert parsed.attachments == (
        Attachment(type="fallback", url="https://shop.example.tw/new", title="秋冬新品上市"),
        Attachment(type="location", latitude=25.033976, longitude=121.5645389),
        Attachment(type="template", title="訂單已成立"),
        Attachment(type="ig_reel", url="https://lookaside.fbsbx.com/ig_reel", title="新品開箱"),
    )


def test_a_template_echo_is_a_template_message():
    message = {"is_echo": True, "app_id": 1480723916354082, "mid": "m_t", "attachments": [
        {"type": "template", "payload": {"template_type": "button", "text": "請點擊付款", "buttons": []}},
    ]}
    echo = {"sender": {"id": PAGE}, "recipient": {"id": PSID}, "timestamp": 1793686522318, "message": message}
    [parsed] = parse_body(body_with(echo))
    assert (parsed.kind, parsed.message_kind, parsed.user_id) == (EventKind.ECHO, MessageKind.TEMPLATE, PSID)


def test_a_message_with_nothing_recognisable_is_still_a_message():
    [parsed] = parse_body(body_with(from_user(message={"mid": "m_1"})))
    assert (parsed.kind, parsed.message_kind) == (EventKind.MESSAGE, MessageKind.OTHER)


def test_a_message_without_mid_falls_back_to_a_hashed_key():
    [parsed] = parse_body(body_with(from_user(message={"text": "hi"})))
    assert parsed.kind == EventKind.MESSAGE
    assert parsed.dedupe_key.startswith(f"{PAGE}:message:{PSID}:1793686522318:")


@pytest.mark.parametrize(
    ("key", "detail", "app_id"),
    [
        ("take_thread_control", {"previous_owner_app_id": OUR_APP, "new_owner_app_id": PAGE_INBOX_APP}, PAGE_INBOX_APP),
        ("request_thread_control", {"requested_owner_app_id": 263902037430900, "metadata": "agent"}, PAGE_INBOX_APP),
        ("app_roles", {OUR_APP: ["primary_receiver"]}, ""),
    ],
)
def test_other_handover_events(key, detail, app_id):
    [parsed] = parse_body(body_with(from_user(**{key: detail})))
    assert (parsed.kind, parsed.payload, parsed.app_id) == (EventKind.HANDOVER, key, app_id)


def test_a_delivery_without_mids():
    [parsed] = parse_body(body_with(from_user(delivery={"watermark": 1793686522000})))
    assert (parsed.kind, parsed.mids, parsed.watermark) == (EventKind.DELIVERY, (), utc(1793686522000))


def test_standby_and_messaging_in_one_entry_keep_their_channel():
    entry = {"id": PAGE, "messaging": [from_user(read={"watermark": 1})], "standby": [from_user(read={"watermark": 2})]}
    active, standby = parse_body({"object": "page", "entry": [entry]})
    assert (active.is_standby, standby.is_standby) == (False, True)
    assert parse_body(standby.raw) == [standby]


def test_dedupe_keys_fit_the_column():
    [parsed] = parse_body(body_with(from_user(message={"mid": "m_" + "x" * 400, "text": "hi"})))
    assert len(parsed.dedupe_key) == 255
    assert parsed.dedupe_key.startswith(f"{PAGE}:message:m_xxx")


def test_text_is_kept_exactly_as_typed():
    text = "  Ｍ號\u3000還有嗎？\r\n  e\u0301  "
    [parsed] = parse_body(body_with(from_user(message={"mid": "m_1", "text": text})))
    assert parsed.text == text
