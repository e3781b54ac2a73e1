"""The one delivery/payment table, recipient rules and the store directory."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orders import logistics
from orders.logistics import (
    DELIVERY_RULES,
    DeliveryType,
    DemoStoreDirectory,
    LogisticsError,
    PaymentType,
    Recipient,
    Store,
    StoreDirectory,
    check_delivery,
    english_required,
    is_valid_pair,
    store_directory,
    validate_delivery,
)

P = PaymentType
PREPAID = {P.CARD, P.BANK_TRANSFER, P.CUSTOM}


class PairTableTests:
    """commerce-rules.md §3, row by row."""

    @pytest.mark.parametrize(
        ("delivery", "payments"),
        [
            ("711_b2c", PREPAID | {P.PICKUP_711}),
            ("711_c2c", PREPAID | {P.PICKUP_711}),
            ("fami_b2c", PREPAID | {P.PICKUP_FAMI}),
            ("fami_c2c", PREPAID | {P.PICKUP_FAMI}),
            ("hct", PREPAID | {P.COD}),
            ("tcat", PREPAID),
            ("711_xb_store", PREPAID),
            ("711_xb_home", PREPAID),
            ("custom", PREPAID | {P.COD}),  # the shop's own delivery or a meet-up, collecting cash itself
        ],
    )
    def test_each_delivery_accepts_exactly_its_payments(self, delivery, payments):
        assert DELIVERY_RULES[DeliveryType(delivery)].payments == payments
        for payment in PaymentType:
            assert is_valid_pair(delivery, payment) is (payment in payments)

    def test_every_delivery_type_has_a_row(self):
        assert set(DELIVERY_RULES) == set(DeliveryType)

    def test_unknown_payment_types_are_not_valid(self):
        assert not is_valid_pair("711_c2c", "bitcoin")

    @pytest.mark.parametrize(
        ("delivery", "country", "english"),
        [("711_xb_store", "JP", True), ("711_xb_home", "US", True), ("711_xb_store", "HK", False), ("711_xb_home", "mo", False),
         ("711_xb_home", "SG", False), ("711_xb_store", "MY", False), ("711_c2c", "JP", False), ("tcat", "", False)],
    )
    def test_english_recipients_outside_hk_macau_singapore_malaysia(self, delivery, country, english):
        assert english_required(delivery, country) is english


def fields(**kwargs) -> set[str]:
    return set(check_delivery(**kwargs))


SEVEN = Store(id="991001", chain="711", name="7-ELEVEN 松仁門市", address="台北市信義區松仁路10號")
HK_STORE = Store(id="XBHK001", chain="711_xb", name="7-Eleven Causeway Bay", address="Hennessy Road", country="HK")


class DeliveryCheckTests:
    def test_store_pickup_with_everything_right(self):
        recipient = Recipient("王小明", "0912-345-678")
        assert check_delivery(delivery_type="711_c2c", payment_type="pickup_711", recipient=recipient, store=SEVEN) == {}

    def test_store_pickup_needs_a_store_of_its_chain(self):
        assert fields(delivery_type="711_c2c", payment_type="card", recipient=Recipient("王小明", "0912345678")) == {"store"}
        fami = Store(id="F90001", chain="fami", name="全家", address="x")
        assert fields(delivery_type="711_c2c", payment_type="card", recipient=Recipient("王小明", "0912345678"), store=fami) == {"store"}

    @pytest.mark.parametrize(
        ("name", "ok"),
        [("王明", True), ("歐陽小明明", True), ("王", False), ("歐陽小明明明", False), ("John", True),
         ("John Lee", True), ("Jo", False), ("Abcdefghijk", False), ("John3", False), ("王小明!", False)],
    )
    def test_store_pickup_names(self, name, ok):
        errors = check_delivery(delivery_type="fami_c2c", payment_type="card", recipient=Recipient(name, "0912345678"),
                                store=Store(id="F1", chain="fami", name="全家", address="x"))
        assert ("name" not in errors) is ok

    def test_store_pickup_needs_a_taiwanese_mobile(self):
        assert fields(delivery_type="711_c2c", payment_type="card", recipient=Recipient("王小明", "02-2345-6789"), store=SEVEN) == {"phone"}
        assert fields(delivery_type="711_c2c", payment_type="card", recipient=Recipient("王小明", "+886 912 345 678"), store=SEVEN) == set()

    def test_pay_at_pickup_is_limited_to_20000(self):
        args = dict(delivery_type="711_c2c", payment_type="pickup_711", recipient=Recipient("王小明", "0912345678"), store=SEVEN)
        assert fields(**args, total=20_000) == set()
        assert fields(**args, total=20_001) == {"payment"}
        assert fields(**{**args, "payment_type": "card"}, total=50_000) == set()

    def test_a_payment_the_table_does_not_allow(self):
        assert fields(delivery_type="tcat", payment_type="cod", recipient=Recipient("王小明", "0912345678", "台北市")) == {"payment"}

    def test_home_delivery_needs_an_address(self):
        assert fields(delivery_type="hct", payment_type="cod", recipient=Recipient("王小明", "0223456789")) == {"address"}

    def test_cross_border_pickup_still_needs_the_recipient_for_returns(self):
        errors = check_delivery(delivery_type="711_xb_store", payment_type="card", recipient=Recipient("", "", "", "HK"), store=HK_STORE)
        assert set(errors) == {"name", "phone", "address"}

    def test_cross_border_in_chinese_is_fine_for_hong_kong(self):
        recipient = Recipient("陳大文", "+85291234567", "香港銅鑼灣軒尼詩道 500 號", "HK")
        assert check_delivery(delivery_type="711_xb_store", payment_type="card", recipient=recipient, store=HK_STORE) == {}

    def test_cross_border_pickup_goes_to_the_stores_country(self):
        recipient = Recipient("Taro Yamada", "+81312345678", "1-2-3 Shinjuku, Tokyo", "JP")
        errors = check_delivery(delivery_type="711_xb_store", payment_type="card", recipient=recipient, store=HK_STORE)
        assert set(errors) == {"country"} and "HK" in errors["country"][0]
        in_hong_kong = Recipient("Taro Yamada", "+85291234567", "500 Hennessy Road", "hk")
        assert check_delivery(delivery_type="711_xb_store", payment_type="card", recipient=in_hong_kong, store=HK_STORE) == {}

    def test_cross_border_elsewhere_must_be_english(self):
        chinese = Recipient("山田太郎", "+81312345678", "東京都新宿区", "JP")
        english = Recipient("Taro Yamada", "+81312345678", "1-2-3 Shinjuku, Tokyo", "JP")
        assert fields(delivery_type="711_xb_home", payment_type="card", recipient=chinese) == {"name", "address"}
        assert fields(delivery_type="711_xb_home", payment_type="card", recipient=english) == set()
        messages = check_delivery(delivery_type="711_xb_home", payment_type="card", recipient=chinese)["name"]
        assert str(messages[0]) == "Outside Hong Kong, Macau, Singapore and Malaysia, write the recipient's name in English."

    def test_cross_border_needs_a_foreign_country(self):
        recipient = Recipient("Taro Yamada", "+81312345678", "1-2-3 Shinjuku", "TW")
        assert fields(delivery_type="711_xb_home", payment_type="card", recipient=recipient) == {"country"}

    def test_validate_raises_with_the_errors(self):
        with pytest.raises(LogisticsError) as raised:
            validate_delivery(delivery_type="711_c2c", payment_type="cod", recipient=Recipient("王小明", "0912345678"), store=SEVEN)
        assert set(raised.value.errors) == {"payment"}

    def test_unknown_delivery(self):
        assert fields(delivery_type="pigeon", payment_type="card", recipient=Recipient("a", "b")) == {"delivery"}

    @settings(max_examples=200)
    @given(st.sampled_from([d.value for d in DeliveryType] + ["?"]), st.sampled_from([p.value for p in PaymentType] + ["?"]),
           st.text(max_size=15), st.text(max_size=15), st.text(max_size=30), st.text(max_size=3), st.integers(0, 10**6))
    def test_any_input_gives_field_errors_never_an_exception(self, delivery, payment, name, phone, address, country, total):
        errors = check_delivery(delivery_type=delivery, payment_type=payment, recipient=Recipient(name, phone, address, country),
                                store=SEVEN, total=total)
        assert all(isinstance(messages, list) and messages for messages in errors.values())


class StoreDirectoryTests:
    def test_the_demo_directory_is_a_store_directory(self):
        assert isinstance(store_directory(), DemoStoreDirectory)
        directory: StoreDirectory = store_directory()
        assert directory.search(chain="711", q="松仁")[0].id == "991001"

    def test_every_chain_has_demo_stores_with_unique_ids(self):
        stores = DemoStoreDirectory().stores
        assert {s.chain for s in stores} == {"711", "fami", "711_xb"}
        assert len({(s.chain, s.id) for s in stores}) == len(stores)
        assert {s.country for s in stores if s.chain == "711_xb"} == {"HK", "MO", "SG", "MY"}

    def test_search_by_name_address_or_district_within_a_chain(self):
        directory = DemoStoreDirectory()
        assert all(s.chain == "fami" for s in directory.search(chain="fami", q="信義"))
        by_address = directory.search(chain="711", q="松仁路")
        assert by_address and all("松仁路" in s.address for s in by_address)
        assert directory.search(chain="711", q="高雄 三多")[0].name == "7-ELEVEN 三多門市"

    def test_tai_spelled_either_way(self):
        directory = DemoStoreDirectory()
        assert directory.search(chain="711", q="臺北市信義區") == directory.search(chain="711", q="台北市信義區")

    def test_name_matches_come_first_and_limit(self):
        directory = DemoStoreDirectory()
        hits = directory.search(chain="711", q="中正", limit=50)
        assert hits[0].name == "7-ELEVEN 中正門市"
        assert len(directory.search(chain="711", q="", limit=5)) == 5
        assert directory.search(chain="711", q="no such store") == []

    def test_get(self):
        directory = DemoStoreDirectory()
        assert directory.get(chain="711", store_id="991001").name == "7-ELEVEN 松仁門市"
        assert directory.get(chain="fami", store_id="991001") is None

    def test_a_real_map_service_replaces_it_through_settings(self, settings, tmp_path):
        path = tmp_path / "stores.json"
        path.write_text(json.dumps({"stores": [{"id": "1", "chain": "711", "name": "Only", "address": "x"}]}), encoding="utf-8")

        class OneStore(DemoStoreDirectory):
            def __init__(self):
                super().__init__(path)

        logistics.OneStore = OneStore
        settings.ORDERS_STORE_DIRECTORY = "orders.logistics.OneStore"
        try:
            assert [s.name for s in store_directory().search(chain="711")] == ["Only"]
        finally:
            del logistics.OneStore

    @given(st.text(max_size=30), st.sampled_from(["711", "fami", "711_xb", "x"]))
    def test_any_query_is_safe(self, q, chain):
        assert isinstance(DemoStoreDirectory.search(_DIRECTORY, chain=chain, q=q), list)


_DIRECTORY = DemoStoreDirectory()
