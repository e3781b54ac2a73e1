"""Taiwan e-invoice (電子發票) details, validated exactly as commerce-rules.md §4 describes.

| type                     | needs                                   | carrier                                   |
| personal (二聯式, B2C)   | —                                       | member carrier (default), mobile barcode, |
|                          |                                         | or citizen digital certificate            |
| company (三聯式, B2B)    | 8-digit business number + company title | none                                      |
| donation (捐贈)          | love code (3-7 digits)                  | none                                      |

Input is trimmed; barcodes and certificate numbers are upper-cased first (neither can contain lower-case
letters, so a customer who typed them in lower case meant the upper-case ones). An invoice is only
offered for TWD stores.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

MOBILE_BARCODE = re.compile(r"/[0-9A-Z.+\-]{7}")
CITIZEN_CERTIFICATE = re.compile(r"[A-Z]{2}[0-9]{14}")
LOVE_CODE = re.compile(r"[0-9]{3,7}")
BUSINESS_NUMBER = re.compile(r"[0-9]{8}")
BUSINESS_NUMBER_WEIGHTS = (1, 2, 1, 2, 1, 2, 4, 1)
MAX_COMPANY_TITLE = 60


class InvoiceType(models.TextChoices):
    PERSONAL = "personal", _("Personal (B2C)")
    COMPANY = "company", _("Company (B2B, with business number)")
    DONATION = "donation", _("Donation")


class CarrierType(models.TextChoices):
    NONE = "", _("No carrier")
    MEMBER = "member", _("Member carrier")
    MOBILE = "mobile", _("Mobile barcode")
    CITIZEN = "citizen", _("Citizen digital certificate")


def is_mobile_barcode(value: str) -> bool:
    """`/` followed by 7 characters of 0-9, A-Z, `.`, `+`, `-`."""
    return isinstance(value, str) and MOBILE_BARCODE.fullmatch(value) is not None


def is_citizen_certificate(value: str) -> bool:
    """2 upper-case letters and 14 digits."""
    return isinstance(value, str) and CITIZEN_CERTIFICATE.fullmatch(value) is not None


def is_love_code(value: str) -> bool:
    """3 to 7 digits."""
    return isinstance(value, str) and LOVE_CODE.fullmatch(value) is not None


def business_number_sum(value: str) -> int:
    """S of the MOF checksum: each digit times its weight (1,2,1,2,1,2,4,1), the product's two digits
    added; a 7th digit of 7 gives 28 -> 10, counted as 1."""
    total = 0
    for digit, weight in zip(value, BUSINESS_NUMBER_WEIGHTS):
        product = int(digit) * weight
        part = product // 10 + product % 10
        total += 1 if part == 10 else part
    return total


def is_business_number(value: str) -> bool:
    """8 digits with S % 5 == 0 (the rule since 2023; older numbers have S % 10 == 0, which passes too);
    when the 7th digit is 7, also valid when (S - 1) % 5 == 0."""
    if not isinstance(value, str) or BUSINESS_NUMBER.fullmatch(value) is None:
        return False
    total = business_number_sum(value)
    return total % 5 == 0 or (value[6] == "7" and (total - 1) % 5 == 0)


def _clean(value: object) -> str:
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


@dataclass(frozen=True)
class Invoice:
    """Validated invoice details, as the order stores them and the invoice block shows them."""

    type: InvoiceType
    carrier_type: CarrierType = CarrierType.NONE
    carrier_number: str = ""
    business_number: str = ""
    company_title: str = ""
    love_code: str = ""

    def as_dict(self) -> dict[str, str]:
        """As an order keeps it (`Order.invoice`) and the validation API answers it: the details and the summary."""
        return {
            "type": self.type.value,
            "carrier_type": self.carrier_type.value,
            "carrier_number": self.carrier_number,
            "business_number": self.business_number,
            "company_title": self.company_title,
            "love_code": self.love_code,
            "summary": self.summary(),
        }

    def summary(self) -> str:
        """One line for the invoice block, e.g. "Company · 22099131 · 好物有限公司"."""
        parts = [str(self.type.label)]
        if self.type == InvoiceType.COMPANY:
            parts += [self.business_number, self.company_title]
        elif self.type == InvoiceType.DONATION:
            parts.append(str(_("Love code {code}")).format(code=self.love_code))
        else:
            parts.append(str(self.carrier_type.label))
            if self.carrier_number:
                parts.append(self.carrier_number)
        return " · ".join(parts)


class InvoiceError(ValueError):
    """`errors`: field -> messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{field}: {' '.join(str(m) for m in msgs)}" for field, msgs in errors.items()))
        self.errors = errors


def validate_invoice(
    *,
    type: str,
    carrier_type: str = "",
    carrier_number: str = "",
    business_number: str = "",
    company_title: str = "",
    love_code: str = "",
    currency: str = "TWD",
) -> Invoice:
    """The normalized `Invoice`, or `InvoiceError` with every problem found."""
    errors: dict[str, list[str]] = {}

    def add(field: str, msg) -> None:
        errors.setdefault(field, []).append(msg)

    if (currency or "").upper() != "TWD":
        raise InvoiceError({"type": [_("Invoices are only issued for stores selling in TWD.")]})
    try:
        kind = InvoiceType(_clean(type))
    except ValueError:
        raise InvoiceError({"type": [_("Choose personal, company or donation.")]}) from None
    try:
        carrier = CarrierType(_clean(carrier_type))
    except ValueError:
        raise InvoiceError({"carrier_type": [_("Choose member carrier, mobile barcode or citizen certificate.")]}) from None
    number = _clean(carrier_number).upper()
    business = _clean(business_number)
    title = _clean(company_title)
    love = _clean(love_code)

    if kind == InvoiceType.PERSONAL:
        if carrier == CarrierType.NONE:
            carrier = CarrierType.MEMBER
        if carrier == CarrierType.MOBILE and not is_mobile_barcode(number):
            add("carrier_number", _("A mobile barcode is / followed by 7 characters: digits, capital letters, . + or -."))
        elif carrier == CarrierType.CITIZEN and not is_citizen_certificate(number):
            add("carrier_number", _("A citizen certificate number is 2 capital letters followed by 14 digits."))
        elif carrier == CarrierType.MEMBER:
            number = ""
        business = title = love = ""
    elif kind == InvoiceType.COMPANY:
        if carrier not in (CarrierType.NONE,):
            add("carrier_type", _("A company invoice has no carrier."))
        if not is_business_number(business):
            add("business_number", _("Enter a valid 8-digit business number (統一編號)."))
        if not title:
            add("company_title", _("Enter the company's name."))
        elif len(title) > MAX_COMPANY_TITLE:
            add("company_title", _("The company's name has at most 60 characters."))
        carrier, number, love = CarrierType.NONE, "", ""
    else:
        if carrier not in (CarrierType.NONE,):
            add("carrier_type", _("A donated invoice has no carrier."))
        if not is_love_code(love):
            add("love_code", _("A love code is 3 to 7 digits."))
        carrier, number, business, title = CarrierType.NONE, "", "", ""
    if errors:
        raise InvoiceError(errors)
    return Invoice(kind, carrier, number, business, title, love)
