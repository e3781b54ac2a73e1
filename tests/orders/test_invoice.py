"""Taiwan e-invoice validation, as commerce-rules.md §4 describes it."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orders.invoice import (
    CarrierType,
    InvoiceError,
    InvoiceType,
    business_number_sum,
    is_business_number,
    is_citizen_certificate,
    is_love_code,
    is_mobile_barcode,
    validate_invoice,
)

DIGITS = "0123456789"
BARCODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.+-"


def spec_business_number(number: str) -> bool:
    """The reference's rule, written out again independently of the implementation."""
    if len(number) != 8 or any(c not in DIGITS for c in number):
        return False
    s = 0
    for d, w in zip(number, [1, 2, 1, 2, 1, 2, 4, 1]):
        p = int(d) * w
        s += 1 if (p // 10 + p % 10) == 10 else p // 10 + p % 10
    return s % 5 == 0 or (number[6] == "7" and (s - 1) % 5 == 0)


class BusinessNumberTests:
    @pytest.mark.parametrize(("number", "valid"), [("22099131", True), ("10458575", True), ("12345678", False)])
    def test_the_reference_examples(self, number, valid):
        assert is_business_number(number) is valid

    def test_the_sums_of_the_examples(self):
        assert business_number_sum("22099131") == 30
        assert business_number_sum("10458575") - 1 == 20

    @pytest.mark.parametrize("number", ["2209913", "220991311", "2209913a", " 22099131", "２２０９９１３１", "", "22099131\n"])
    def test_anything_but_eight_ascii_digits_is_refused(self, number):
        assert not is_business_number(number)

    @given(st.text(DIGITS, min_size=8, max_size=8))
    def test_matches_the_rule_as_written(self, number):
        assert is_business_number(number) == spec_business_number(number)

    @given(st.text(DIGITS, min_size=7, max_size=7))
    def test_every_prefix_has_valid_check_digits(self, prefix):
        valid = [d for d in DIGITS if is_business_number(prefix + d)]
        if prefix[6] == "7":
            assert len(valid) >= 2
        else:
            assert len(valid) == 2  # the last digit has weight 1: two of ten digits make S a multiple of 5

    @given(st.text())
    def test_never_raises(self, text):
        assert is_business_number(text) in (True, False)


class CarrierTests:
    @pytest.mark.parametrize("code", ["/ABC+123", "/1234567", "/A.B-C+D", "/ZZZZZZZ"])
    def test_mobile_barcodes(self, code):
        assert is_mobile_barcode(code)

    @pytest.mark.parametrize("code", ["ABC+1234", "/ABC123", "/ABC12345", "/abc1234", "/ABC 123", "/ABC_123"])
    def test_not_mobile_barcodes(self, code):
        assert not is_mobile_barcode(code)

    @given(st.text(BARCODE_CHARS, min_size=7, max_size=7))
    def test_any_seven_barcode_characters_after_a_slash(self, body):
        assert is_mobile_barcode("/" + body)

    @given(st.text(max_size=10))
    def test_barcodes_match_the_reference_regex(self, text):
        assert is_mobile_barcode(text) == bool(re.fullmatch(r"/[0-9A-Z.+\-]{7}", text))

    @pytest.mark.parametrize(
        ("code", "valid"),
        [("AB12345678901234", True), ("ab12345678901234", False), ("A123456789012345", False), ("AB1234567890123", False)],
    )
    def test_citizen_certificates(self, code, valid):
        assert is_citizen_certificate(code) is valid

    @given(st.text(max_size=20))
    def test_certificates_match_the_reference_regex(self, text):
        assert is_citizen_certificate(text) == bool(re.fullmatch(r"[A-Z]{2}[0-9]{14}", text))

    @pytest.mark.parametrize(("code", "valid"), [("123", True), ("1234567", True), ("12", False), ("12345678", False), ("12a", False)])
    def test_love_codes(self, code, valid):
        assert is_love_code(code) is valid

    @given(st.text(max_size=10))
    def test_love_codes_match_the_reference_regex(self, text):
        assert is_love_code(text) == bool(re.fullmatch(r"[0-9]{3,7}", text))


def errors_of(**kwargs) -> dict:
    with pytest.raises(InvoiceError) as raised:
        validate_invoice(**kwargs)
    return {field: [str(m) for m in messages] for field, messages in raised.value.errors.items()}


class InvoiceTests:
    def test_personal_defaults_to_the_member_carrier(self):
        invoice = validate_invoice(type="personal")
        assert (invoice.type, invoice.carrier_type, invoice.carrier_number) == (InvoiceType.PERSONAL, CarrierType.MEMBER, "")
        assert invoice.summary() == "Personal (B2C) · Member carrier"

    def test_personal_with_a_mobile_barcode_typed_in_lower_case(self):
        invoice = validate_invoice(type="personal", carrier_type="mobile", carrier_number=" /abc+123 ")
        assert invoice.carrier_number == "/ABC+123"
        assert invoice.summary() == "Personal (B2C) · Mobile barcode · /ABC+123"

    def test_personal_with_bad_carriers(self):
        assert list(errors_of(type="personal", carrier_type="mobile", carrier_number="ABC1234")) == ["carrier_number"]
        assert list(errors_of(type="personal", carrier_type="citizen", carrier_number="A1")) == ["carrier_number"]

    def test_company_needs_a_valid_number_and_a_title_and_no_carrier(self):
        invoice = validate_invoice(type="company", business_number="22099131", company_title="好物有限公司")
        assert invoice.summary() == "Company (B2B, with business number) · 22099131 · 好物有限公司"
        assert errors_of(type="company", business_number="12345678", company_title="") == {
            "business_number": ["Enter a valid 8-digit business number (統一編號)."],
            "company_title": ["Enter the company's name."],
        }
        assert list(errors_of(type="company", carrier_type="mobile", business_number="22099131", company_title="x")) == ["carrier_type"]

    def test_donation_needs_a_love_code_and_no_carrier(self):
        assert validate_invoice(type="donation", love_code="8585").summary() == "Donation · Love code 8585"
        assert list(errors_of(type="donation", love_code="12")) == ["love_code"]
        assert list(errors_of(type="donation", love_code="123", carrier_type="member")) == ["carrier_type"]

    def test_fields_of_other_types_are_dropped(self):
        invoice = validate_invoice(type="donation", love_code="123", business_number="22099131", company_title="x")
        assert (invoice.business_number, invoice.company_title) == ("", "")

    def test_only_for_twd_stores(self):
        assert list(errors_of(type="personal", currency="USD")) == ["type"]

    def test_unknown_type_or_carrier(self):
        assert list(errors_of(type="receipt")) == ["type"]
        assert list(errors_of(type="personal", carrier_type="paper")) == ["carrier_type"]

    @settings(max_examples=200)
    @given(
        st.sampled_from(["personal", "company", "donation", "", "x"]),
        st.sampled_from(["", "member", "mobile", "citizen", "y"]),
        st.text(max_size=20),
        st.text(max_size=12),
        st.text(max_size=70),
        st.text(max_size=10),
    )
    def test_any_input_gives_an_invoice_or_field_errors(self, type_, carrier, number, business, title, love):
        try:
            invoice = validate_invoice(
                type=type_, carrier_type=carrier, carrier_number=number, business_number=business, company_title=title, love_code=love
            )
        except InvoiceError as error:
            assert error.errors and all(error.errors.values())
        else:
            if invoice.type == InvoiceType.COMPANY:
                assert is_business_number(invoice.business_number) and invoice.company_title
            if invoice.carrier_type == CarrierType.MOBILE:
                assert is_mobile_barcode(invoice.carrier_number)
            if invoice.type == InvoiceType.DONATION:
                assert is_love_code(invoice.love_code)
