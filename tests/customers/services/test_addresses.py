"""Saved shipping addresses: at most 5, always one default."""
import pytest

from customers import services
from customers.models import Address

pytestmark = pytest.mark.django_db


def add(customer, n, **fields):
    fields.setdefault("recipient_name", f"Recipient {n}")
    fields.setdefault("street", f"忠孝東路 {n} 號")
    return services.add_address(customer=customer, actor=None, **fields)


class AddressTests:
    def test_the_first_address_is_the_default(self, make_customer):
        customer = make_customer("Mei")
        first = add(customer, 1, postal_code="106", city="台北市", district="大安區", recipient_phone="0912-345-678")
        second = add(customer, 2)
        first.refresh_from_db()
        assert first.is_default and not Address.objects.get(pk=second.pk).is_default
        assert first.recipient_phone == "+886912345678"

    def test_the_sixth_address_is_refused_with_a_clear_message(self, make_customer):
        customer = make_customer("Mei")
        for n in range(5):
            add(customer, n)
        with pytest.raises(services.ApplicationError) as info:
            add(customer, 6)
        assert info.value.message == "A member can keep at most 5 addresses. Delete one before adding another."
        assert customer.addresses.count() == 5

    def test_choose_another_default(self, make_customer):
        customer = make_customer("Mei")
        first, second = add(customer, 1), add(customer, 2, is_default=True)
        assert list(customer.addresses.filter(is_default=True).values_list("pk", flat=True)) == [second.pk]
        services.update_address(address=first, actor=None, is_default=True)
        assert list(customer.addresses.filter(is_default=True).values_list("pk", flat=True)) == [first.pk]

    def test_edit_keeps_unchanged_fields(self, make_customer):
        customer = make_customer("Mei")
        address = add(customer, 1, city="台北市")
        edited = services.update_address(address=address, actor=None, street="仁愛路 9 號")
        assert (edited.city, edited.street, edited.recipient_name) == ("台北市", "仁愛路 9 號", "Recipient 1")

    def test_deleting_the_default_makes_the_newest_the_default(self, make_customer):
        customer = make_customer("Mei")
        first, _second, third = add(customer, 1), add(customer, 2), add(customer, 3)
        services.delete_address(address=first, actor=None)
        assert list(customer.addresses.filter(is_default=True).values_list("pk", flat=True)) == [third.pk]

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"recipient_name": " "}, "recipient's name"),
            ({"street": ""}, "street address"),
            ({"postal_code": "12"}, "postal code"),
            ({"recipient_phone": "12"}, "valid phone"),
        ],
    )
    def test_invalid_addresses_are_refused(self, make_customer, fields, message):
        with pytest.raises(services.ApplicationError, match=message):
            add(make_customer("Mei"), 1, **fields)
