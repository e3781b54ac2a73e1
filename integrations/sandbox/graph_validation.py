"""Checks a Send API body the way Graph does, refusing with its `(#100)` parameter errors.

Supported: text, media attachments by URL (image, audio, video, file), the button template, sender actions.
Not supported (refused with a 100 that says so): reusable attachment ids, other templates.
"""
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from integrations.sandbox.errors import GraphError

MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")
SUPPORTED_TAGS = ("HUMAN_AGENT",)
# Retired on 2026-04-27: any send with them fails with code 100 (platforms.md §1.3).
RETIRED_TAGS = ("CONFIRMED_EVENT_UPDATE", "ACCOUNT_UPDATE", "POST_PURCHASE_UPDATE")
SENDER_ACTIONS = ("mark_seen", "typing_on", "typing_off")
MEDIA_TYPES = ("image", "audio", "video", "file")
BUTTON_TYPES = ("web_url", "postback", "phone_number")
MAX_TEXT = 2000
MAX_METADATA = 1000
MAX_TEMPLATE_TEXT = 640
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_POSTBACK_PAYLOAD = 1000


@dataclass(frozen=True)
class SendRequest:
    recipient_id: str
    messaging_type: str = ""
    tag: str = ""
    message: dict[str, Any] | None = None
    sender_action: str = ""
    metadata: str | None = None


def param_error(message: str) -> GraphError:
    return GraphError(f"(#100) {message}", 100)


def validate_send(params: dict[str, Any]) -> SendRequest:
    recipient_id = _recipient_id(params.get("recipient"))
    sender_action = params.get("sender_action")
    message = params.get("message")
    if sender_action is not None:
        if message is not None:
            raise param_error("sender_action cannot be sent together with message")
        if sender_action not in SENDER_ACTIONS:
            raise param_error(_enum_message("sender_action", SENDER_ACTIONS, sender_action))
        return SendRequest(recipient_id=recipient_id, sender_action=sender_action)
    if message is None:
        raise param_error("Must send either message or sender_action")
    messaging_type, tag = _messaging_type_and_tag(params)
    message = _message(message)
    # The reference puts `metadata` in the message object; older samples put it at the top level: take both.
    metadata = params["metadata"] if "metadata" in params else message.get("metadata")
    return SendRequest(
        recipient_id=recipient_id,
        messaging_type=messaging_type,
        tag=tag,
        message=message,
        metadata=_metadata(metadata),
    )


def _recipient_id(recipient: Any) -> str:
    if not isinstance(recipient, dict) or not isinstance(recipient.get("id"), str | int) or not str(recipient["id"]):
        raise param_error("The parameter recipient is required")
    return str(recipient["id"])


def _messaging_type_and_tag(params: dict[str, Any]) -> tuple[str, str]:
    messaging_type = params.get("messaging_type")
    if messaging_type is None:
        raise param_error("The parameter messaging_type is required")
    if messaging_type not in MESSAGING_TYPES:
        raise param_error(_enum_message("messaging_type", MESSAGING_TYPES, messaging_type))
    if messaging_type != "MESSAGE_TAG":
        return messaging_type, ""
    tag = params.get("tag")
    if not tag:
        raise param_error("Tag is required for MESSAGE_TAG messaging type")
    if tag in RETIRED_TAGS:
        raise param_error(f"The tag {tag} has been deprecated and can no longer be used")
    if tag not in SUPPORTED_TAGS:
        raise param_error(_enum_message("tag", SUPPORTED_TAGS, tag))
    return messaging_type, tag


def _message(message: Any) -> dict[str, Any]:
    if not isinstance(message, dict):
        raise param_error("Param message must be a JSON object")
    has_text, has_attachment = "text" in message, "attachment" in message
    if has_text and has_attachment:
        raise param_error("Only one of message[text] and message[attachment] may be set")
    if has_text:
        _text(message["text"])
    elif has_attachment:
        _attachment(message["attachment"])
    else:
        raise param_error("Message cannot be empty, must provide valid attachment or text")
    return message


def _text(text: Any) -> None:
    if not isinstance(text, str) or not text:
        raise param_error("Message cannot be empty, must provide valid attachment or text")
    _max_length("message[text]", text, MAX_TEXT)


def _attachment(attachment: Any) -> None:
    if not isinstance(attachment, dict) or not isinstance(attachment.get("payload"), dict):
        raise param_error("Param message[attachment] must have a type and a payload object")
    type_, payload = attachment.get("type"), attachment["payload"]
    if type_ in MEDIA_TYPES:
        _media_payload(payload)
    elif type_ == "template":
        _button_template(payload)
    else:
        raise param_error(_enum_message("message[attachment][type]", (*MEDIA_TYPES, "template"), type_))


def _media_payload(payload: dict[str, Any]) -> None:
    if "attachment_id" in payload:
        raise param_error("The sandbox keeps no saved attachments: send payload.url instead of attachment_id")
    if not is_web_url(payload.get("url")):
        raise param_error("Param message[attachment][payload][url] must be a valid URL")


def _button_template(payload: dict[str, Any]) -> None:
    if payload.get("template_type") != "button":
        raise param_error("The sandbox supports only template_type button")
    text = payload.get("text")
    if not isinstance(text, str) or not text:
        raise param_error("param message[attachment][payload][text] must be a non-empty UTF-8 encoded string")
    _max_length("message[attachment][payload][text]", text, MAX_TEMPLATE_TEXT)
    buttons = payload.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        raise param_error(f"param message[attachment][payload][buttons] must have 1 to {MAX_BUTTONS} elements")
    for index, button in enumerate(buttons):
        _button(f"message[attachment][payload][buttons][{index}]", button)


def _button(name: str, button: Any) -> None:
    if not isinstance(button, dict) or button.get("type") not in BUTTON_TYPES:
        got = button.get("type") if isinstance(button, dict) else button
        raise param_error(_enum_message(f"{name}[type]", BUTTON_TYPES, got))
    title = button.get("title")
    if not isinstance(title, str) or not title:
        raise param_error(f"param {name}[title] must be a non-empty string")
    _max_length(f"{name}[title]", title, MAX_BUTTON_TITLE)
    if button["type"] == "web_url" and not is_web_url(button.get("url")):
        raise param_error(f"param {name}[url] must be a valid URL")
    if button["type"] in ("postback", "phone_number"):
        payload = button.get("payload")
        if not isinstance(payload, str) or not payload:
            raise param_error(f"param {name}[payload] must be a non-empty string")
        _max_length(f"{name}[payload]", payload, MAX_POSTBACK_PAYLOAD)


def _metadata(metadata: Any) -> str | None:
    if metadata is None:
        return None
    if not isinstance(metadata, str):
        raise param_error("Param metadata must be a string")
    _max_length("metadata", metadata, MAX_METADATA)
    return metadata


def _max_length(name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise param_error(f"Length of param {name} must be less than or equal to {limit}")


def _enum_message(name: str, allowed: tuple[str, ...], got: Any) -> str:
    return f"Param {name} must be one of {{{', '.join(allowed)}}} - got \"{got}\""


def is_web_url(value: Any) -> bool:
    """An absolute http(s) URL. Meta requires https; the sandbox also takes http for the local demo."""
    if not isinstance(value, str) or len(value) > 2000:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)
