"""The order list in a real browser: from the top bar, staff find an order by the recipient's phone written
their own way, open it, and see where and to whom to ship it."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from orders.models import OrderStatus
from tests import factories
from tests.browser import app, chromium, orm, screenshot, signed_in_page  # noqa: F401 (fixtures)
from tests.orders.public.factories import make_order

pytestmark = [pytest.mark.browser]

PASSWORD = "pw-Str0ng-enough"


def _orders(channel):
    factories.staff_user("agent", password=PASSWORD)
    conversation = factories.conversation(channel, name="Mei")
    mei = Customer.objects.create(name="陳小美", phone="+886912345678")
    home = make_order(
        conversation=conversation, customer=mei, delivery_name="新竹物流宅配", delivery_type="hct", pickup_store={},
        recipient={"name": "陳小美", "phone": "0912345678", "address": "台北市信義區松仁路 100 號 5 樓", "country": "TW"},
    )
    other = make_order(conversation=conversation, recipient={"name": "王大明", "phone": "0987654321"}, status=OrderStatus.CONFIRMED)
    return home.number, other.number


class OrderListBrowserTests:
    def test_find_an_order_by_phone_and_see_where_to_ship_it(self, app, chromium):
        home, other = orm(_orders, app.page)
        page = signed_in_page(chromium, app, "agent", PASSWORD)
        page.get_by_test_id("nav-orders").click()
        rows = page.get_by_test_id("order-row")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text(other)  # newest first

        page.get_by_test_id("order-search").fill("0912-345-678")
        page.get_by_test_id("order-filter-submit").click()
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("陳小美")
        screenshot(page, "orders-list")

        rows.first.get_by_role("link", name=home).click()
        expect(page.get_by_test_id("admin-recipient")).to_contain_text("陳小美")
        expect(page.get_by_test_id("admin-recipient")).to_contain_text("0912345678")
        expect(page.get_by_test_id("admin-address")).to_have_text("台北市信義區松仁路 100 號 5 樓")
        expect(page.get_by_test_id("admin-delivery")).to_have_text("新竹物流宅配")
        screenshot(page, "orders-detail-shipping")
