"""One spelling for each login identity, so `0912-345-678` and `+886 912 345 678` are one member.

- Phone: E.164 via the `phonenumbers` library, Taiwan the region of numbers typed without a country
  code (`0912-345-678`, `912345678`), and bare international digits (`886912345678`) understood too.
- Email: trimmed and lower-cased (shops treat addresses case-insensitively; so do the big providers).

Pure functions; `InvalidContactDetail` carries a message for people.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext as _

DEFAULT_REGION = "TW"
TAIWAN_COUNTRY_CODE = 886
MAX_INPUT = 200

_email_validator = EmailValidator()
# Permissive on purpose: candidates are checked with Django's validator afterwards.
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")


class InvalidContactDetail(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def normalize_email(raw: str) -> str:
    """`"  Mei@Example.COM "` -> `"mei@example.com"`; "" stays ""; anything else invalid raises."""
    value = (raw or "").replace("\x00", "").strip().lower()
    if not value:
        return ""
    if len(value) > 254:
        raise InvalidContactDetail(_("Enter a valid email address."))
    try:
        _email_validator(value)
    except ValidationError:
        raise InvalidContactDetail(_("Enter a valid email address.")) from None
    return value


def _parse(value: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def normalize_phone(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """Any way of writing a phone number -> E.164 (`+886912345678`); "" stays ""; invalid raises."""
    value = (raw or "").replace("\x00", "").strip()
    if not value:
        return ""
    if len(value) > 40:
        raise InvalidContactDetail(_("Enter a valid phone number."))
    number = _parse(value, region)
    if number is None:
        digits = re.sub(r"\D", "", value)
        # `00` + country code (an international prefix used outside Taiwan), or bare country-code digits.
        for candidate in ("+" + digits[2:] if digits.startswith("00") else "", "+" + digits if digits else ""):
            if candidate and len(candidate) > 4:
                number = _parse(candidate, region)
                if number is not None:
                    break
    if number is None:
        raise InvalidContactDetail(_("Enter a valid phone number."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """How staff read a stored number: national form for Taiwan (`0912 345 678`), international otherwise."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == TAIWAN_COUNTRY_CODE:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_search_digits(raw: str) -> str:
    """The digits of a partly typed phone number that a stored E.164 number would contain.

    `0912-34` -> `91234` (the trunk 0 is not stored), `+886 912` -> `886912`, `8869` -> `8869`.
    """
    digits = re.sub(r"\D", "", raw or "")
    if digits.startswith("0") and not digits.startswith("00"):
        digits = digits[1:]
    elif digits.startswith("00"):
        digits = digits[2:]
    return digits


def looks_like_email(raw: str) -> bool:
    return "@" in (raw or "")


def looks_like_phone(raw: str) -> bool:
    value = (raw or "").strip()
    return bool(value) and bool(re.fullmatch(r"[+\d\s\-().]+", value)) and len(re.sub(r"\D", "", value)) >= 3


@dataclass(frozen=True)
class FoundDetail:
    kind: str  # "email" or "phone"
    value: str  # normalized
    raw: str  # as written in the message


def find_contact_details(text: str) -> list[FoundDetail]:
    """Emails and Taiwanese phone numbers written in a message, normalized, in order, each once."""
    text = (text or "")[:5000]
    found: list[tuple[int, FoundDetail]] = []
    seen: set[tuple[str, str]] = set()
    for match in _EMAIL_IN_TEXT.finditer(text):
        raw = match.group(0).rstrip(".")
        try:
            value = normalize_email(raw)
        except InvalidContactDetail:
            continue
        if ("email", value) not in seen:
            seen.add(("email", value))
            found.append((match.start(), FoundDetail("email", value, raw)))
    email_spans = [(m.start(), m.end()) for m in _EMAIL_IN_TEXT.finditer(text)]
    for match in phonenumbers.PhoneNumberMatcher(text, DEFAULT_REGION):
        if any(start <= match.start < end for start, end in email_spans):
            continue
        if match.number.country_code != TAIWAN_COUNTRY_CODE or not phonenumbers.is_valid_number(match.number):
            continue
        value = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        if ("phone", value) not in seen:
            seen.add(("phone", value))
            found.append((match.start, FoundDetail("phone", value, match.raw_string)))
    return [detail for _, detail in sorted(found, key=lambda pair: pair[0])]
