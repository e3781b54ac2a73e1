"""LINE webhook parsing, fixture by fixture, plus the shapes LINE documents but the fixtures don't show."""
import datetime as dt
import json
from pathlib import Path

import pytest

from integrations.base import Attachment, EventKind, MessageKind, Platform
from integrations.line.parse import parse_body
from integrations.parsing import MalformedPayload

FIXTURES = Path(__file__).parents[2] / "fixtures" / "line"
DESTINATION = "U8e742f61d673b39c7fff3cecb7536ef0"
USER = "U550c0660ad4f9b3cbb735f08c9431c8c"


def load(name):
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def parse_one(name):
    events = parse_body(load(name))
    assert len(events) == 1
    return events[0]


def utc(ms):
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(milliseconds=ms)


def body_with(*events):
    return {"destination": DESTINATION, "events": list(events)}


def message_event(message, **fields):
    return {
        "type": "message",
        "replyToken": "38ef843bde154d9b91c21320ffd17a0f",
        "mode": "active",
        "timestamp": 1793686522318,
        "source": {"type": "user", "userId": USER},
        "webhookEventId": "01M6G0RJEE59AAC83G7BWCMBMM",
        "deliveryContext": {"isRedelivery": False},
        "message": message,
        **fields,
    }


# --- fixtures -------------------------------------------------------------------------------------

def test_text_with_emoji_and_mention():
    event = parse_one("text_emoji_mention")
    assert event.platform == Platform.LINE
    assert event.kind == EventKind.MESSAGE
    assert event.channel_key == DESTINATION
    assert event.user_id == USER  # the group member who wrote it
    assert event.timestamp == dt.datetime(2026, 11, 3, 6, 15, 22, 318000, tzinfo=dt.timezone.utc)
    assert event.message_id == "530281947362518274"
    assert event.message_kind == MessageKind.TEXT
    assert event.text == "@All @小美 早安！今天有新品嗎 (love)"  # emoji placeholders and mentions left as typed
    assert event.reply_token == "b7f3c0e2a94d4d6f8e1a5c3b9d2f7e60"
    assert event.reply_to == ""
    assert event.attachments == ()
    assert event.dedupe_key == f"{DESTINATION}:01M6G0RJEE59AAC83G7BWCMBMM"
    assert not event.is_standby and not event.is_redelivery
    assert event.raw["events"][0]["message"]["emojis"][0]["emojiId"] == "001"


def test_text_quoting_an_earlier_message():
    event = parse_one("text_quoted")
    assert event.text == "這件還有  L  號嗎？\n謝謝"
    assert event.reply_to == "530281401956317441"


def test_image_hosted_by_line_is_fetched_by_message_id():
    event = parse_one("image_line")
    assert event.message_kind == MessageKind.IMAGE
    assert event.attachments == (Attachment(type="image", content_id="530282051837462529"),)
    assert event.raw["events"][0]["message"]["imageSet"]["total"] == 2


def test_external_image_keeps_its_urls():
    event = parse_one("image_external")
    assert event.attachments == (
        Attachment(
            type="image",
            url="https://cdn.example-shop.tw/line/uploads/2026/11/dress-m-front.jpg",
            preview_url="https://cdn.example-shop.tw/line/uploads/2026/11/dress-m-front-240.jpg",
        ),
    )


def test_sticker_keeps_its_text_and_keywords_in_raw_only():
    event = parse_one("sticker")
    assert event.message_kind == MessageKind.STICKER
    assert event.attachments == (Attachment(type="sticker", sticker_id="545580519", package_id="26162"),)
    assert event.text == ""
    message = event.raw["events"][0]["message"]
    assert (message["stickerResourceType"], message["text"]) == ("MESSAGE", "謝謝老闆！")
    assert message["keywords"] == ["Thanks", "Thank you", "cony"]


def test_location():
    event = parse_one("location")
    assert event.message_kind == MessageKind.LOCATION
    assert event.attachments == (
        Attachment(
            type="location",
            title="台北101",
            address="110台北市信義區信義路五段7號",
            latitude=25.033976,
            longitude=121.5645389,
        ),
    )


def test_file():
    event = parse_one("file")
    assert event.message_kind == MessageKind.FILE
    assert event.attachments == (
        Attachment(type="file", content_id="530282203361829120", file_name="匯款證明.pdf", file_size=184213),
    )


def test_follow():
    event = parse_one("follow")
    assert event.kind == EventKind.FOLLOW
    assert event.user_id == USER
    assert event.reply_token == "e4a6c8b0d2f44e6a8c0b2d4f6e8a0c21"
    assert event.message_kind is None
    assert event.timestamp == utc(1793600122318)


def test_unfollow_has_no_reply_token():
    event = parse_one("unfollow")
    assert event.kind == EventKind.UNFOLLOW
    assert event.user_id == USER
    assert event.reply_token == ""


def test_postback():
    event = parse_one("postback")
    assert event.kind == EventKind.POSTBACK
    assert event.message_kind == MessageKind.POSTBACK
    assert event.payload == "action=confirm_order&order=SO-20261103-0042"
    assert event.reply_token == "f6b8d0a2c4e64f8b0d2a4c6e8f0b2d43"
    assert event.raw["events"][0]["postback"]["params"] == {"datetime": "2026-11-05T14:00"}


def test_standby_message_is_never_replied_to():
    event = parse_one("standby_message")
    assert event.kind == EventKind.MESSAGE
    assert event.is_standby
    assert event.reply_token == ""
    assert event.text == "我想改收件地址"


def test_redelivered_message():
    event = parse_one("redelivered_message")
    assert event.is_redelivery
    assert event.kind == EventKind.MESSAGE
    assert event.reply_token == "1a3c5e7b9d1f4a3c5e7b9d1f3a5c7e98"
    assert event.dedupe_key == f"{DESTINATION}:01M6G11QDEVV0PHXCA54N01TGK"


def test_the_connection_check_has_no_events():
    body = load("verify_empty")
    assert body == {"destination": DESTINATION, "events": []}
    assert parse_body(body) == []


def test_unknown_type_is_kept_as_other():
    event = parse_one("unknown_type")
    assert event.kind == EventKind.OTHER
    assert event.user_id == USER
    assert event.raw["events"][0]["undefinedField"] == {"1": 1}
    assert event.dedupe_key == f"{DESTINATION}:01M6G1215Y6QV39SERWWNBFXRA"


def test_unsend():
    event = parse_one("unsend")
    assert event.kind == EventKind.UNSEND
    assert event.message_id == "530282455731822593"
    assert event.user_id == USER


def test_message_edited_is_other_with_its_own_dedupe_key():
    edited = parse_one("message_edited")
    original = parse_one("redelivered_message")
    assert edited.kind == EventKind.OTHER
    assert edited.message_id == ""
    assert edited.raw["events"][0]["message"]["id"] == original.message_id
    assert edited.dedupe_key != original.dedupe_key


def test_group_message_is_kept_but_not_a_customer_message():
    event = parse_one("group_source")
    assert event.kind == EventKind.OTHER  # group chats are not one-to-one conversations
    assert event.user_id == ""
    assert event.raw["events"][0]["source"] == {"type": "group", "groupId": "Ce727461c78d115d47505fe0aea98b9b5"}


@pytest.mark.parametrize("name", sorted(path.stem for path in FIXTURES.glob("*.json")))
def test_raw_is_a_body_that_parses_back_to_the_same_event(name):
    for event in parse_body(load(name)):
        assert event.raw["destination"] == DESTINATION
        assert parse_body(event.raw) == [event]
        assert event.timestamp.tzinfo is dt.timezone.utc


# --- shapes beyond the fixtures -------------------------------------------------------------------

@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "events",
        {},
        {"destination": DESTINATION},
        {"events": []},
        {"destination": "", "events": []},
        {"destination": 12, "events": []},
        {"destination": DESTINATION, "events": None},
        {"destination": DESTINATION, "events": {}},
        {"object": "page", "entry": []},
    ],
)
def test_a_body_that_is_not_a_line_webhook_is_malformed(body):
    with pytest.raises(MalformedPayload):
        parse_body(body)


def test_events_from_several_users_in_one_body_keep_their_order():
    other_user = "Ua42c9e0d62be2c19b2193af75b56a347"
    first = message_event({"id": "1", "type": "text", "text": "A"})
    second = message_event({"id": "2", "type": "text", "text": "B"}, source={"type": "user", "userId": other_user},
                           webhookEventId="01M6G0RJEE59AAC83G7BWCMBMN")
    parsed = parse_body(body_with(first, second))
    assert [(e.user_id, e.text) for e in parsed] == [(USER, "A"), (other_user, "B")]


@pytest.mark.parametrize(
    "event",
    [
        None,
        "message",
        [],
        {},
        message_event({"type": "text", "text": "no id"}),
        message_event("not an object"),
        message_event({"id": "1", "type": "text", "text": "no time"}, timestamp=None),
        message_event({"id": "1", "type": "text", "text": "bad time"}, timestamp=10**20),
        {"type": "postback", "timestamp": 1793686522318, "postback": {"params": {}}},
        {"type": "unsend", "timestamp": 1793686522318, "unsend": {}},
        {"type": "join", "replyToken": "r", "timestamp": 1793686522318, "source": {"type": "group", "groupId": "C1"}},
        {"type": "memberJoined", "timestamp": 1793686522318, "joined": {"members": []}},
        {"type": ["message"], "timestamp": 1793686522318},
    ],
)
def test_events_that_are_not_understood_become_other(event):
    [parsed] = parse_body(body_with(event))
    assert parsed.kind == EventKind.OTHER
    assert parsed.channel_key == DESTINATION
    assert parse_body(parsed.raw) == [parsed]


def test_an_event_without_a_timestamp_is_dated_at_the_epoch():
    [parsed] = parse_body(body_with({"type": "follow"}))
    assert parsed.timestamp == dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def test_without_webhook_event_id_the_key_is_type_time_and_hash():
    event = message_event({"id": "1", "type": "text", "text": "hi"})
    del event["webhookEventId"]
    [parsed] = parse_body(body_with(event))
    prefix = f"{DESTINATION}:message:1793686522318:"
    assert parsed.dedupe_key.startswith(prefix)
    assert len(parsed.dedupe_key) == len(prefix) + 16


def test_a_redelivery_without_webhook_event_id_keeps_the_key():
    event = message_event({"id": "1", "type": "text", "text": "hi"})
    del event["webhookEventId"]
    redelivered = {**event, "deliveryContext": {"isRedelivery": True}}
    [first], [again] = parse_body(body_with(event)), parse_body(body_with(redelivered))
    assert first.dedupe_key == again.dedupe_key
    assert (first.is_redelivery, again.is_redelivery) == (False, True)


@pytest.mark.parametrize("content_type", ["video", "audio"])
def test_video_and_audio(content_type):
    line_hosted = message_event({"id": "7", "type": content_type, "contentProvider": {"type": "line"}})
    external_provider = {
        "type": "external",
        "originalContentUrl": "https://cdn.example-shop.tw/a",
        "previewImageUrl": "https://cdn.example-shop.tw/p",
    }
    external = message_event({"id": "8", "type": content_type, "contentProvider": external_provider})
    parsed = parse_body(body_with(line_hosted, external))
    assert [e.message_kind for e in parsed] == [MessageKind(content_type)] * 2
    assert parsed[0].attachments == (Attachment(type=content_type, content_id="7"),)
    assert parsed[1].attachments == (
        Attachment(type=content_type, url="https://cdn.example-shop.tw/a", preview_url="https://cdn.example-shop.tw/p"),
    )


def test_media_with_an_unknown_provider_has_no_source():
    [parsed] = parse_body(body_with(message_event({"id": "9", "type": "image", "contentProvider": {"type": "s3"}})))
    assert parsed.attachments == (Attachment(type="image"),)


def test_a_message_type_line_adds_later_is_still_a_message():
    [parsed] = parse_body(body_with(message_event({"id": "10", "type": "hologram", "text": "ignored"})))
    assert (parsed.kind, parsed.message_kind, parsed.text, parsed.attachments) == (
        EventKind.MESSAGE, MessageKind.OTHER, "", ())


def test_bad_values_inside_content_are_dropped_not_raised():
    location = message_event({"id": "11", "type": "location", "latitude": "25.03", "longitude": 10**400})
    file = message_event({"id": "12", "type": "file", "fileName": 3, "fileSize": -1})
    sticker = message_event({"id": "13", "type": "sticker", "packageId": 446, "stickerId": True})
    parsed = parse_body(body_with(location, file, sticker))
    assert [e.attachments for e in parsed] == [
        (Attachment(type="location"),),
        (Attachment(type="file", content_id="12"),),
        (Attachment(type="sticker", package_id="446"),),
    ]


def test_standby_postback_has_no_reply_token():
    event = {"type": "postback", "mode": "standby", "replyToken": "r", "timestamp": 1, "postback": {"data": "a=1"},
             "source": {"type": "user", "userId": "U" + "1" * 32}}
    [parsed] = parse_body(body_with(event))
    assert (parsed.kind, parsed.is_standby, parsed.reply_token, parsed.payload) == (EventKind.POSTBACK, True, "", "a=1")


def test_dedupe_keys_fit_the_column():
    [parsed] = parse_body(body_with(message_event({"id": "1", "type": "text", "text": "hi"}, webhookEventId="E" * 300)))
    assert len(parsed.dedupe_key) == 255
    assert parsed.dedupe_key.startswith(f"{DESTINATION}:EEE")
