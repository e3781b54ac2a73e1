"""One spelling per phone number and email (properties with Hypothesis), and details found in messages."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customers.normalize import (
    InvalidContactDetail,
    find_contact_details,
    format_phone,
    normalize_email,
    normalize_phone,
    phone_search_digits,
)

# Taiwanese mobile numbers: 09 + 8 digits.
mobile_tails = st.text(alphabet="0123456789", min_size=8, max_size=8)
separators = st.sampled_from(["", " ", "-", ".", "  "])


def spaced(digits: str, sep: str) -> str:
    return sep.join([digits[:3], digits[3:6], digits[6:]])


class PhoneNormalizationTests:
    def test_the_three_spellings_of_the_issue_are_one_phone(self):
        assert normalize_phone("0912-345-678") == normalize_phone("+886 912 345 678") == normalize_phone("886912345678") == "+886912345678"

    @settings(max_examples=200, deadline=None)
    @given(tail=mobile_tails, sep=separators, form=st.sampled_from(["national", "plus", "bare", "no-trunk", "paren"]))
    def test_any_way_of_writing_a_mobile_number_gives_one_e164(self, tail, sep, form):
        national = "9" + tail[:8]  # 9XXXXXXXX: the number without its trunk 0
        written = {
            "national": "0" + spaced(national, sep),
            "plus": "+886" + sep + spaced(national, sep),
            "bare": "886" + spaced(national, sep),
            "no-trunk": spaced(national, sep),
            "paren": "(0" + national[:3] + ")" + sep + national[3:],
        }[form]
        assert normalize_phone(written) == "+886" + national

    @settings(max_examples=100, deadline=None)
    @given(tail=mobile_tails)
    def test_normalizing_twice_changes_nothing(self, tail):
        once = normalize_phone("09" + tail)
        assert normalize_phone(once) == once
        assert normalize_phone(format_phone(once)) == once

    def test_landlines_and_other_countries(self):
        assert normalize_phone("(02) 2712-3456") == "+886227123456"
        assert normalize_phone("+1 650-253-0000") == "+16502530000"
        assert normalize_phone("") == ""

    @pytest.mark.parametrize("bad", ["12345", "abc", "0912", "+886 12", "9" * 41])
    def test_nonsense_is_refused_with_a_message(self, bad):
        with pytest.raises(InvalidContactDetail) as info:
            normalize_phone(bad)
        assert info.value.message == "Enter a valid phone number."

    @settings(max_examples=200, deadline=None)
    @given(st.text(max_size=60))
    def test_any_input_either_normalizes_or_is_refused(self, raw):
        try:
            value = normalize_phone(raw)
        except InvalidContactDetail:
            return
        assert value == "" or value.startswith("+")

    def test_partial_input_for_search(self):
        assert phone_search_digits("0912-34") == "91234"
        assert phone_search_digits("+886 912") == "886912"


class EmailNormalizationTests:
    @settings(max_examples=100, deadline=None)
    @given(
        local=st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True),
        domain=st.from_regex(r"[a-z]{2,10}\.(com|tw|net)", fullmatch=True),
        upper=st.booleans(),
        pad=st.sampled_from(["", " ", "\t", "  \n"]),
    )
    def test_case_and_surrounding_space_do_not_matter(self, local, domain, upper, pad):
        written = f"{pad}{local}@{domain}{pad}"
        if upper:
            written = written.upper()
        assert normalize_email(written) == f"{local}@{domain}"

    @pytest.mark.parametrize("bad", ["mei", "mei@", "@x.com", "a b@x.com"])
    def test_invalid_is_refused(self, bad):
        with pytest.raises(InvalidContactDetail):
            normalize_email(bad)


class FindContactDetailsTests:
    def test_email_and_taiwanese_phones_in_a_message(self):
        found = find_contact_details("我的電話 0912-345-678，email: Mei.Lin@Example.com。市話 02 2712 3456")
        assert [(d.kind, d.value) for d in found] == [
            ("phone", "+886912345678"),
            ("email", "mei.lin@example.com"),
            ("phone", "+886227123456"),
        ]
        assert found[0].raw == "0912-345-678"

    def test_foreign_numbers_order_numbers_and_repeats_are_left_out(self):
        found = find_contact_details("+1 650 253 0000 訂單 123456，0912345678 again 0912-345-678")
        assert [(d.kind, d.value) for d in found] == [("phone", "+886912345678")]

    def test_nothing_in_plain_text(self):
        assert find_contact_details("想訂兩件，謝謝") == []
