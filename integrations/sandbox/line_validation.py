"""Checks LINE message objects, collecting every problem as `{"message", "property"}` like LINE's 400s.

Differences from the real platform, on purpose: image and video URLs may be `http://` (the local demo serves
its media over plain HTTP on localhost; LINE requires HTTPS), and flex/imagemap contents are only checked
for their outer shape.
"""
from typing import Any
from urllib.parse import urlsplit

MESSAGE_TYPES = ("text", "image", "video", "audio", "location", "sticker", "template", "imagemap", "flex")
TEMPLATE_TYPES = ("buttons", "confirm", "carousel", "image_carousel")
ACTION_TYPES = (
    "uri", "message", "postback", "datetimepicker", "camera", "cameraRoll", "location", "richmenuswitch", "clipboard",
)
URI_SCHEMES = ("http", "https", "line", "tel")
MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_ALT_TEXT = 1500
MAX_URL = 2000
MAX_URI_ACTION = 1000
MAX_ACTION_LABEL = 20
MAX_BUTTONS_TITLE = 40
MAX_BUTTONS_TEXT = 160
MAX_BUTTONS_TEXT_WITH_TITLE_OR_IMAGE = 60
MAX_CONFIRM_TEXT = 240
MAX_BUTTONS_ACTIONS = 4
MAX_POSTBACK_DATA = 300
MAX_LOCATION_TEXT = 100

Detail = dict[str, str]


def utf16_length(text: str) -> int:
    """LINE counts text in UTF-16 code units: an emoji outside the BMP counts 2."""
    return len(text.encode("utf-16-le")) // 2


def messages_errors(messages: Any) -> list[Detail]:
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        return [_detail(f"Size must be between 1 and {MAX_MESSAGES}", "messages")]
    details: list[Detail] = []
    for index, message in enumerate(messages):
        details += message_errors(f"messages[{index}]", message)
    return details


def message_errors(name: str, message: Any) -> list[Detail]:
    if not isinstance(message, dict):
        return [_detail("Must be an object", name)]
    type_ = message.get("type")
    if type_ not in MESSAGE_TYPES:
        return [_detail(f"Must be one of the following values: [{', '.join(MESSAGE_TYPES)}]", f"{name}.type")]
    return MESSAGE_CHECKS[type_](name, message)


def _text(name: str, message: dict) -> list[Detail]:
    return _string(message, "text", name, MAX_TEXT, count=utf16_length)


def _media(name: str, message: dict) -> list[Detail]:
    return _url(message, "originalContentUrl", name) + _url(message, "previewImageUrl", name)


def _audio(name: str, message: dict) -> list[Detail]:
    duration = message.get("duration")
    details = _url(message, "originalContentUrl", name)
    if not isinstance(duration, int) or isinstance(duration, bool) or duration < 1:
        details.append(_detail("Must be a positive number", f"{name}.duration"))
    return details


def _location(name: str, message: dict) -> list[Detail]:
    details = _string(message, "title", name, MAX_LOCATION_TEXT) + _string(message, "address", name, MAX_LOCATION_TEXT)
    for key in ("latitude", "longitude"):
        if not isinstance(message.get(key), int | float) or isinstance(message.get(key), bool):
            details.append(_detail("Must be a number", f"{name}.{key}"))
    return details


def _sticker(name: str, message: dict) -> list[Detail]:
    return _string(message, "packageId", name, 64) + _string(message, "stickerId", name, 64)


def _template(name: str, message: dict) -> list[Detail]:
    details = _string(message, "altText", name, MAX_ALT_TEXT)
    template = message.get("template")
    if not isinstance(template, dict):
        return details + [_detail("May not be empty", f"{name}.template")]
    type_ = template.get("type")
    if type_ not in TEMPLATE_TYPES:
        return details + [
            _detail(f"Must be one of the following values: [{', '.join(TEMPLATE_TYPES)}]", f"{name}.template.type")
        ]
    return details + TEMPLATE_CHECKS[type_](f"{name}.template", template)


def _buttons(name: str, template: dict) -> list[Detail]:
    has_title_or_image = bool(template.get("title") or template.get("thumbnailImageUrl"))
    limit = MAX_BUTTONS_TEXT_WITH_TITLE_OR_IMAGE if has_title_or_image else MAX_BUTTONS_TEXT
    details = _string(template, "text", name, limit)
    if "title" in template:
        details += _string(template, "title", name, MAX_BUTTONS_TITLE)
    if "thumbnailImageUrl" in template:
        details += _url(template, "thumbnailImageUrl", name)
    return details + _actions(f"{name}.actions", template.get("actions"), 1, MAX_BUTTONS_ACTIONS)


def _confirm(name: str, template: dict) -> list[Detail]:
    actions = _actions(f"{name}.actions", template.get("actions"), 2, 2)
    return _string(template, "text", name, MAX_CONFIRM_TEXT) + actions


def _columns(name: str, template: dict) -> list[Detail]:
    columns = template.get("columns")
    if not isinstance(columns, list) or not 1 <= len(columns) <= 10:
        return [_detail("Size must be between 1 and 10", f"{name}.columns")]
    return [
        _detail("Must be an object", f"{name}.columns[{index}]")
        for index, column in enumerate(columns)
        if not isinstance(column, dict)
    ]


def _flex(name: str, message: dict) -> list[Detail]:
    details = _string(message, "altText", name, MAX_ALT_TEXT)
    contents = message.get("contents")
    if not isinstance(contents, dict) or contents.get("type") not in ("bubble", "carousel"):
        details.append(_detail("Must be one of the following values: [bubble, carousel]", f"{name}.contents.type"))
    return details


def _imagemap(name: str, message: dict) -> list[Detail]:
    return _url(message, "baseUrl", name) + _string(message, "altText", name, MAX_ALT_TEXT)


def _actions(name: str, actions: Any, minimum: int, maximum: int) -> list[Detail]:
    if not isinstance(actions, list) or not minimum <= len(actions) <= maximum:
        return [_detail(f"Size must be between {minimum} and {maximum}", name)]
    details: list[Detail] = []
    for index, action in enumerate(actions):
        details += _action(f"{name}[{index}]", action)
    return details


def _action(name: str, action: Any) -> list[Detail]:
    if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
        return [_detail(f"Must be one of the following values: [{', '.join(ACTION_TYPES)}]", f"{name}.type")]
    details = _string(action, "label", name, MAX_ACTION_LABEL)
    if action["type"] == "uri":
        details += _uri(action, name)
    elif action["type"] == "message":
        details += _string(action, "text", name, MAX_TEXT)
    elif action["type"] == "postback":
        details += _string(action, "data", name, MAX_POSTBACK_DATA)
    return details


def _uri(action: dict, name: str) -> list[Detail]:
    uri = action.get("uri")
    if not isinstance(uri, str) or not uri:
        return [_detail("May not be empty", f"{name}.uri")]
    if len(uri) > MAX_URI_ACTION or _scheme(uri) not in URI_SCHEMES:
        return [_detail("Must be a valid URI (http, https, line or tel)", f"{name}.uri")]
    return []


def _string(obj: dict, key: str, name: str, limit: int, count=len) -> list[Detail]:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        return [_detail("May not be empty", f"{name}.{key}")]
    if count(value) > limit:
        return [_detail(f"Length must be between 0 and {limit}", f"{name}.{key}")]
    return []


def _url(obj: dict, key: str, name: str) -> list[Detail]:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        return [_detail("May not be empty", f"{name}.{key}")]
    if len(value) > MAX_URL or _scheme(value) not in ("http", "https") or not _has_host(value):
        return [_detail("Must be a valid HTTPS URL", f"{name}.{key}")]
    return []


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme
    except ValueError:
        return ""


def _has_host(url: str) -> bool:
    try:
        return bool(urlsplit(url).netloc)
    except ValueError:
        return False


def _detail(message: str, property_: str) -> Detail:
    return {"message": message, "property": property_}


MESSAGE_CHECKS = {
    "text": _text,
    "image": _media,
    "video": _media,
    "audio": _audio,
    "location": _location,
    "sticker": _sticker,
    "template": _template,
    "imagemap": _imagemap,
    "flex": _flex,
}
TEMPLATE_CHECKS = {"buttons": _buttons, "confirm": _confirm, "carousel": _columns, "image_carousel": _columns}
