"""Delivery and payment: the one table of what each delivery method accepts, the recipient rules, and the
convenience-store directory.

`DELIVERY_RULES` is the single source for valid delivery/payment pairs (commerce-rules.md §3, seed 002
step 三): the payment-method listing, the quote and `place_order` all ask it. A shop's delivery method may
narrow its payments further (`DeliveryMethod.payment_methods`), never widen them.

Store pickup needs a store from a `StoreDirectory`: `DemoStoreDirectory` searches the demo stores shipped
in `orders/data/demo_stores.json`; a real map service (a logistics provider's e-map callback returning
the store id, name and address) replaces it through `settings.ORDERS_STORE_DIRECTORY` (a dotted path).
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.db import models
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

DEMO_STORES = Path(__file__).resolve().parent / "data" / "demo_stores.json"

# Convenience-store collection limit for pay at pickup (NT$; commerce-rules.md §3: verify per chain).
PAY_AT_PICKUP_MAX = 20_000
# Cross-border destinations where recipients may be written in Chinese; elsewhere English is required.
CHINESE_OK_COUNTRIES = frozenset({"HK", "MO", "SG", "MY"})


class DeliveryType(models.TextChoices):
    SEVEN_C2C = "711_c2c", _("7-11 C2C store pickup")
    SEVEN_B2C = "711_b2c", _("7-11 B2C store pickup")
    FAMI_C2C = "fami_c2c", _("FamilyMart C2C store pickup")
    FAMI_B2C = "fami_b2c", _("FamilyMart B2C store pickup")
    HCT = "hct", _("Hsinchu Logistics home delivery")
    TCAT = "tcat", _("Black Cat home delivery")
    SEVEN_XB_STORE = "711_xb_store", _("7-11 cross-border store pickup (no payment at pickup)")
    SEVEN_XB_HOME = "711_xb_home", _("7-11 cross-border home delivery")
    CUSTOM = "custom", _("Custom (not integrated)")


class PaymentType(models.TextChoices):
    PICKUP_711 = "pickup_711", _("7-11 pay at pickup")
    PICKUP_FAMI = "pickup_fami", _("FamilyMart pay at pickup")
    CARD = "card", _("Card payment gateway")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer (customer uploads a proof)")
    COD = "cod", _("Cash on delivery")
    CUSTOM = "custom", _("Custom payment")


class StoreChain(models.TextChoices):
    SEVEN = "711", _("7-11")
    FAMI = "fami", _("FamilyMart")
    SEVEN_XB = "711_xb", _("7-11 cross-border")


PREPAID = frozenset({PaymentType.CARD, PaymentType.BANK_TRANSFER, PaymentType.CUSTOM})


@dataclass(frozen=True)
class DeliveryRule:
    """What a delivery type needs and accepts. `store_chain`: pickup at a store of that chain;
    `home`: delivered to an address; `cross_border`: recipient rules for other countries."""

    payments: frozenset[PaymentType]
    store_chain: StoreChain | None = None
    home: bool = False
    cross_border: bool = False


DELIVERY_RULES: dict[DeliveryType, DeliveryRule] = {
    DeliveryType.SEVEN_C2C: DeliveryRule(PREPAID | {PaymentType.PICKUP_711}, store_chain=StoreChain.SEVEN),
    DeliveryType.SEVEN_B2C: DeliveryRule(PREPAID | {PaymentType.PICKUP_711}, store_chain=StoreChain.SEVEN),
    DeliveryType.FAMI_C2C: DeliveryRule(PREPAID | {PaymentType.PICKUP_FAMI}, store_chain=StoreChain.FAMI),
    DeliveryType.FAMI_B2C: DeliveryRule(PREPAID | {PaymentType.PICKUP_FAMI}, store_chain=StoreChain.FAMI),
    DeliveryType.HCT: DeliveryRule(PREPAID | {PaymentType.COD}, home=True),
    DeliveryType.TCAT: DeliveryRule(PREPAID, home=True),
    DeliveryType.SEVEN_XB_STORE: DeliveryRule(PREPAID, store_chain=StoreChain.SEVEN_XB, cross_border=True),
    DeliveryType.SEVEN_XB_HOME: DeliveryRule(PREPAID, home=True, cross_border=True),
    # Not integrated: the shop's own delivery or a meet-up, so its own cash collection too (commerce rules §3:
    # "whatever the shop configures"); the chains' pay-at-pickup belongs to their stores only.
    DeliveryType.CUSTOM: DeliveryRule(PREPAID | {PaymentType.COD}),
}

PAY_AT_PICKUP = frozenset({PaymentType.PICKUP_711, PaymentType.PICKUP_FAMI})


def rule_for(delivery_type: str) -> DeliveryRule:
    return DELIVERY_RULES[DeliveryType(delivery_type)]


def payments_for(delivery_type: str) -> frozenset[PaymentType]:
    return rule_for(delivery_type).payments


def is_valid_pair(delivery_type: str, payment_type: str) -> bool:
    try:
        return PaymentType(payment_type) in payments_for(delivery_type)
    except ValueError:
        return False


def english_required(delivery_type: str, country: str) -> bool:
    """Cross-border recipients are written in English outside Hong Kong, Macau, Singapore and Malaysia."""
    return rule_for(delivery_type).cross_border and (country or "").upper() not in CHINESE_OK_COUNTRIES


# --- Recipients ----------------------------------------------------------------------------------------

_CHINESE_NAME = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]{2,5}")
_ENGLISH_NAME = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)*")
_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z .'\-]*")
_LATIN_TEXT = re.compile(r"[A-Za-z0-9 ,.'#/()&\-]+")
_TW_MOBILE = re.compile(r"09[0-9]{8}")
_PHONE = re.compile(r"\+?[0-9]{6,15}")
_COUNTRY = re.compile(r"[A-Z]{2}")


def normalize_phone(phone: str) -> str:
    """Spaces, dashes and brackets out; +886 9... becomes 09... (Taiwanese mobiles as logistics want them)."""
    digits = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", phone or ""))
    if digits.startswith("+8869") or digits.startswith("8869"):
        digits = "0" + digits[digits.index("886") + 3 :]
    return digits


def store_pickup_name_ok(name: str) -> bool:
    """2-5 Chinese characters, or 4-10 English letters (single spaces between words allowed)."""
    if _CHINESE_NAME.fullmatch(name):
        return True
    return bool(_ENGLISH_NAME.fullmatch(name)) and 4 <= sum(c.isalpha() for c in name) <= 10


@dataclass(frozen=True)
class Recipient:
    name: str
    phone: str
    address: str = ""
    country: str = "TW"


@dataclass(frozen=True)
class Store:
    id: str
    chain: str
    name: str
    address: str
    district: str = ""
    country: str = "TW"


class LogisticsError(ValueError):
    """`errors`: field -> messages, as the API shows them."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{field}: {' '.join(str(m) for m in msgs)}" for field, msgs in errors.items()))
        self.errors = errors


def check_delivery(
    *, delivery_type: str, payment_type: str, recipient: Recipient, store: Store | None = None, total: int = 0
) -> dict[str, list[str]]:
    """Every rule the delivery details break (empty when they are fine). `total` is what the customer pays."""
    errors: dict[str, list[str]] = {}

    def add(field: str, msg) -> None:
        errors.setdefault(field, []).append(msg)

    try:
        rule = rule_for(delivery_type)
    except ValueError:
        return {"delivery": [_("Unknown delivery method.")]}
    if not is_valid_pair(delivery_type, payment_type):
        add("payment", _("This payment method can't be used with this delivery method."))
    elif PaymentType(payment_type) in PAY_AT_PICKUP and total > PAY_AT_PICKUP_MAX:
        add("payment", _("Pay at pickup is limited to NT$20,000; choose a prepaid payment."))

    if rule.store_chain is not None:
        if store is None:
            add("store", _("Choose a pickup store."))
        elif store.chain != rule.store_chain:
            add("store", _("This store is not of the chain this delivery method uses."))

    name = (recipient.name or "").strip()
    phone = normalize_phone(recipient.phone)
    address = (recipient.address or "").strip()
    country = (recipient.country or "").strip().upper()
    if not name:
        add("name", _("Enter the recipient's name."))
    if not phone:
        add("phone", _("Enter the recipient's phone number."))
    if rule.home and not address:
        add("address", _("Enter the delivery address."))

    if rule.cross_border:
        if not _COUNTRY.fullmatch(country) or country == "TW":
            add("country", _("Choose the destination country."))
        if rule.store_chain is not None and not address:
            add("address", _("Cross-border pickup still needs the recipient's address, for returns."))
        if store is not None and store.country and _COUNTRY.fullmatch(country) and store.country.upper() != country:
            add("country", _("The pickup store is in %(store_country)s: the destination is the store's country.") % {"store_country": store.country})
        if phone and not _PHONE.fullmatch(phone):
            add("phone", _("Enter a phone number of 6 to 15 digits, optionally starting with +."))
        if english_required(delivery_type, country):
            if name and not _LATIN_NAME.fullmatch(name):
                add("name", _("Outside Hong Kong, Macau, Singapore and Malaysia, write the recipient's name in English."))
            if address and not _LATIN_TEXT.fullmatch(address):
                add("address", _("Outside Hong Kong, Macau, Singapore and Malaysia, write the address in English."))
    else:
        if rule.store_chain is not None and name and not store_pickup_name_ok(name):
            add("name", _("For store pickup the name is 2-5 Chinese characters or 4-10 English letters, without digits or symbols."))
        if phone and not _TW_MOBILE.fullmatch(phone) and rule.store_chain is not None:
            add("phone", _("Store pickup needs a Taiwanese mobile number (09xxxxxxxx)."))
        elif phone and not _PHONE.fullmatch(phone):
            add("phone", _("Enter a phone number of 6 to 15 digits, optionally starting with +."))
    return errors


def validate_delivery(**kwargs) -> None:
    """`check_delivery`, raising `LogisticsError` when anything is wrong."""
    errors = check_delivery(**kwargs)
    if errors:
        raise LogisticsError(errors)


# --- The store directory --------------------------------------------------------------------------------


class StoreDirectory(Protocol):
    """Finds convenience stores for pickup ("尋找門市")."""

    def search(self, *, chain: str, q: str = "", limit: int = 20) -> list[Store]: ...

    def get(self, *, chain: str, store_id: str) -> Store | None: ...


def _fold(text: str) -> str:
    """For matching: full-width to half-width, lower case, 臺 as 台 (both spellings are in use)."""
    return unicodedata.normalize("NFKC", text).lower().replace("臺", "台")


class DemoStoreDirectory:
    """The demo stores shipped with the app (fictional), searched by id, name, address or district.

    Every word of the query must match somewhere; stores whose name matches come first."""

    def __init__(self, path: Path | str = DEMO_STORES):
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        self.stores: tuple[Store, ...] = tuple(Store(**row) for row in data["stores"])
        self._index = [
            (store, _fold(store.name), _fold(" ".join((store.id, store.name, store.address, store.district)))) for store in self.stores
        ]

    def search(self, *, chain: str, q: str = "", limit: int = 20) -> list[Store]:
        words = _fold(q).split()
        hits = []
        for position, (store, name, text) in enumerate(self._index):
            if store.chain != chain or not all(word in text for word in words):
                continue
            name_hit = bool(words) and all(word in name for word in words)
            hits.append((not name_hit, position, store))
        hits.sort(key=lambda hit: hit[:2])
        return [store for _, _, store in hits[: max(0, limit)]]

    def get(self, *, chain: str, store_id: str) -> Store | None:
        for store in self.stores:
            if store.chain == chain and store.id == store_id:
                return store
        return None


@lru_cache(maxsize=4)
def _directory(path: str) -> StoreDirectory:
    return import_string(path)()


def store_directory() -> StoreDirectory:
    """The configured directory (`settings.ORDERS_STORE_DIRECTORY`, default the demo one), built once."""
    return _directory(getattr(settings, "ORDERS_STORE_DIRECTORY", "orders.logistics.DemoStoreDirectory"))
