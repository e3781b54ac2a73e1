"""Properties both webhook parsers must keep whatever a platform (or an attacker with the secret) sends.

- Any JSON value gives a list of events or `MalformedPayload`, never another exception.
- Inside a valid envelope nothing raises, and every event comes out.
- `event.raw` parses back to exactly `[event]` (it is what gets stored and replayed).
- Dedupe keys fit the column and don't depend on key order or on parsing twice.

Bodies are built from each platform's field names with any JSON in their place, so the generated data reaches
the parsers' inner branches instead of stopping at the envelope check.
"""
import copy
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.base import InboundEvent, Platform
from integrations.line.parse import parse_body as parse_line
from integrations.messenger.parse import parse_body as parse_messenger
from integrations.parsing import (
    EPOCH,
    MAX_KEY_LENGTH,
    MalformedPayload,
    bounded_key,
    ms_to_datetime,
    short_hash,
    valid_ms,
)

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# JSON as `json.loads` can produce it: strings may hold lone surrogates, numbers are finite.
text = st.text(st.characters(exclude_categories=()), max_size=12)
json_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=20,
)

realistic_ms = st.integers(min_value=1_500_000_000_000, max_value=1_900_000_000_000)
milliseconds = realistic_ms | st.integers() | st.sampled_from([0, -1, 10**20])
digits = st.text("0123456789", min_size=1, max_size=18)


def mostly(strategy):
    """Usually a value from `strategy`, now and then any JSON in its place."""
    return st.integers(min_value=0, max_value=9).flatmap(lambda pick: json_values if pick == 0 else strategy)


def obj(required=None, **optional):
    """An object with the `required` fields and any subset of the `optional` ones, each mostly plausible."""
    return st.fixed_dictionaries(
        {name: mostly(value) for name, value in (required or {}).items()},
        optional={name: mostly(value) for name, value in optional.items()},
    )


def merged(*parts):
    """One object holding the fields of each of `parts`."""
    return st.tuples(*parts).map(lambda dicts: {key: value for part in dicts for key, value in part.items()})


# --- Messenger -----------------------------------------------------------------------------------

PAGE_IDS = ("104857362918475", "7294018365527103")  # events may name either side as the Page
messenger_ids = st.sampled_from(PAGE_IDS) | st.integers(min_value=0, max_value=2**63 - 1)
messenger_attachment = obj(
    required={
        "type": st.sampled_from(["image", "sticker", "video", "audio", "file", "fallback", "template", "location"]),
        "payload": obj(
            url=text,
            title=text,
            text=text,
            sticker_id=st.just(369239263222822) | st.just("369239263222822"),
            coordinates=obj(required={"lat": st.floats(allow_nan=False), "long": st.floats(allow_nan=False)}),
        ),
    },
    url=text,
    title=text,
)
messenger_message = obj(
    required={"mid": text},
    text=text,
    is_echo=st.booleans(),
    app_id=messenger_ids,
    metadata=text,
    quick_reply=obj(payload=text),
    reply_to=obj(mid=text),
    attachments=st.lists(messenger_attachment, max_size=3),
)
messenger_watermark = obj(required={"watermark": milliseconds}, mids=st.lists(text, max_size=3))
messenger_handover = obj(
    new_owner_app_id=messenger_ids,
    requested_owner_app_id=messenger_ids,
    previous_owner_app_id=messenger_ids,
    metadata=text,
)
messenger_details = st.one_of(
    obj(required={"message": messenger_message}),
    obj(required={"postback": obj(mid=text, title=text, payload=text)}),
    obj(required={"delivery": messenger_watermark}),
    obj(required={"read": messenger_watermark}),
    obj(required={"pass_thread_control": messenger_handover}),
    obj(required={"take_thread_control": messenger_handover}),
    obj(required={"request_thread_control": messenger_handover}),
    obj(required={"app_roles": st.dictionaries(text, st.lists(text))}),
    obj(required={"reaction": obj(mid=text, action=text, reaction=text)}),
)
messenger_core = obj(
    required={"sender": obj(required={"id": messenger_ids}), "timestamp": milliseconds},
    recipient=obj(required={"id": messenger_ids}),
)
messenger_event = mostly(merged(messenger_core, messenger_details))
messenger_entry = st.fixed_dictionaries(
    {"id": messenger_ids},
    optional={
        "time": milliseconds | json_values,
        "messaging": st.lists(messenger_event, max_size=3),
        "standby": st.lists(messenger_event, max_size=3),
    },
).filter(lambda entry: "messaging" in entry or "standby" in entry)
messenger_bodies = st.fixed_dictionaries({"object": st.just("page"), "entry": st.lists(messenger_entry, max_size=3)})

# --- LINE ----------------------------------------------------------------------------------------

line_message = obj(
    required={
        "id": digits,
        "type": st.sampled_from(["text", "image", "video", "audio", "file", "location", "sticker", "hologram"]),
    },
    text=text,
    quotedMessageId=digits,
    contentProvider=obj(
        required={"type": st.sampled_from(["line", "external"])}, originalContentUrl=text, previewImageUrl=text
    ),
    fileName=text,
    fileSize=st.integers(),
    title=text,
    address=text,
    latitude=st.floats(allow_nan=False),
    longitude=st.floats(allow_nan=False),
    packageId=digits | st.integers(),
    stickerId=digits | st.integers(),
)
line_core = obj(
    required={
        "timestamp": milliseconds,
        "mode": st.sampled_from(["active", "standby"]),
        "source": obj(required={"type": st.sampled_from(["user", "group", "room"])}, userId=text, groupId=text),
    },
    webhookEventId=text,
    deliveryContext=obj(required={"isRedelivery": st.booleans()}),
    replyToken=text,
)
line_details = st.one_of(
    obj(required={"type": st.sampled_from(["message", "messageEdited"]), "message": line_message}),
    obj(required={"type": st.just("postback"), "postback": obj(required={"data": text})}),
    obj(required={"type": st.just("unsend"), "unsend": obj(required={"messageId": digits})}),
    obj(required={"type": st.sampled_from(["follow", "unfollow", "join", "undefined"])}),
)
line_event = mostly(merged(line_core, line_details))
line_bodies = st.fixed_dictionaries({"destination": text.filter(bool), "events": st.lists(line_event, max_size=4)})

PARSERS = [pytest.param(parse_messenger, id="messenger"), pytest.param(parse_line, id="line")]


def reversed_keys(value):
    """The same JSON with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(value)}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


def event_count(body, platform):
    if platform == Platform.LINE:
        return len(body["events"])
    return sum(len(entry.get(key, [])) for entry in body["entry"] for key in ("messaging", "standby"))


def assert_well_formed(events, body, platform):
    assert len(events) == event_count(body, platform)
    for event in events:
        assert isinstance(event, InboundEvent)
        assert event.platform == platform
        assert event.timestamp.tzinfo is dt.timezone.utc
        assert 0 < len(event.dedupe_key) <= MAX_KEY_LENGTH
        # A key cut to fit keeps its first 238 characters, then "~" and a 16-character hash.
        assert event.dedupe_key.startswith(f"{event.channel_key}:"[:MAX_KEY_LENGTH - 17])


# --- properties ----------------------------------------------------------------------------------

@pytest.mark.parametrize("parse", PARSERS)
@PROPERTY_SETTINGS
@given(body=json_values)
def test_any_json_parses_or_is_malformed(parse, body):
    try:
        events = parse(body)
    except MalformedPayload:
        return
    assert all(isinstance(event, InboundEvent) for event in events)


@pytest.mark.parametrize("parse", PARSERS)
@PROPERTY_SETTINGS
@given(events=st.lists(json_values, max_size=3))
def test_any_json_event_inside_a_valid_envelope_never_raises(parse, events):
    body = (
        {"object": "page", "entry": [{"id": PAGE_IDS[0], "messaging": events}]}
        if parse is parse_messenger
        else {"destination": "U8e742f61d673b39c7fff3cecb7536ef0", "events": events}
    )
    assert len(parse(body)) == len(events)


@PROPERTY_SETTINGS
@given(body=messenger_bodies)
def test_messenger_bodies(body):
    events = parse_messenger(body)
    assert_well_formed(events, body, Platform.MESSENGER)
    for event in events:
        assert parse_messenger(event.raw) == [event]
    assert parse_messenger(copy.deepcopy(body)) == events
    assert parse_messenger(reversed_keys(body)) == events


@PROPERTY_SETTINGS
@given(body=line_bodies)
def test_line_bodies(body):
    events = parse_line(body)
    assert_well_formed(events, body, Platform.LINE)
    for event in events:
        assert event.channel_key == body["destination"]
        assert parse_line(event.raw) == [event]
        if event.is_standby:
            assert event.reply_token == ""
    assert parse_line(copy.deepcopy(body)) == events
    assert parse_line(reversed_keys(body)) == events


# --- shared helpers ------------------------------------------------------------------------------

@given(ms=st.integers(min_value=-62135596800000, max_value=253402300799999))
def test_milliseconds_convert_exactly(ms):
    assert valid_ms(ms) == ms
    moment = ms_to_datetime(ms)
    assert moment.tzinfo is dt.timezone.utc
    assert (moment - EPOCH) // dt.timedelta(milliseconds=1) == ms


@pytest.mark.parametrize("value", [None, True, False, 1.5, "1793686522318", 10**20, -(10**20), [1], {"ms": 1}])
def test_values_that_are_not_a_usable_epoch(value):
    assert valid_ms(value) is None


@given(value=json_values)
def test_short_hash_ignores_key_order(value):
    assert short_hash(reversed_keys(value)) == short_hash(value)
    assert len(short_hash(value)) == 16


@given(key=text | st.text(min_size=250, max_size=600))
def test_bounded_keys_fit_and_stay_distinct(key):
    bounded = bounded_key(key)
    if len(key) <= MAX_KEY_LENGTH:
        assert bounded == key
    else:
        assert len(bounded) == MAX_KEY_LENGTH
        assert bounded != bounded_key(key + "x")
