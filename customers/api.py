"""The customers JSON API, mounted at /api/v1/ beside the inbox's (see inbox.api for the conventions).

One view per URL, `<Entity><Action>Api`, nested serializers, one selector or service per operation.
Answers for people, never 500s:
- a clash of login details -> 409 {"detail", "outcome": "duplicate"|"reenter", "matches": [...], "by_field"}
  ("duplicate": one other member has them, offer to merge; "reenter": email and phone belong to two members);
- any other `ApplicationError` -> 400 {"detail"}; bad input -> DRF's 400 {"field": [...]}; unknown ids -> 404.
A successful edit (200) is the third outcome, "updated".
"""
from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from config.serializer_fields import StrictCharField
from customers import selectors, services
from customers.errors import DuplicateCustomer
from customers.models import Address, Customer, MemberTier
from customers.normalize import format_phone
from inbox.api import ErrorSerializer, InboxApi
from inbox.errors import ApplicationError
from inbox.permissions import is_inbox_admin

# --- Representations -------------------------------------------------------------------------------------


class TierSerializer(serializers.ModelSerializer):
    class Meta:
        model = MemberTier
        fields = ("id", "name", "rank")
        ref_name = "MemberTier"


class CustomerRefSerializer(serializers.Serializer):
    """A member in a list: enough to recognise and pick them."""

    id = serializers.IntegerField()
    name = StrictCharField()
    email = StrictCharField(help_text="Normalized: trimmed, lower-case; empty when unknown.")
    phone = StrictCharField(help_text="E.164, e.g. +886912345678; empty when unknown.")
    phone_display = serializers.SerializerMethodField(help_text="As staff read it, e.g. 0912 345 678.")
    tier = TierSerializer(allow_null=True)
    tags = serializers.SerializerMethodField()
    credit_balance = serializers.IntegerField(help_text="Store credit in TWD.")
    url = serializers.SerializerMethodField(help_text="The back-office customer page.")

    class Meta:
        ref_name = "CustomerRef"

    def get_phone_display(self, customer) -> str:
        return format_phone(customer.phone)

    def get_tags(self, customer) -> list[str]:
        return sorted(t.name for t in customer.tags.all())

    def get_url(self, customer) -> str:
        return reverse("customers:detail", args=[customer.pk])


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = ("id", "recipient_name", "recipient_phone", "postal_code", "city", "district", "street", "is_default", "created_at")
        ref_name = "Address"


class ContactRefSerializer(serializers.Serializer):
    contact_id = serializers.IntegerField(source="contact.pk")
    conversation_id = serializers.SerializerMethodField()
    name = StrictCharField(source="contact.display_name")
    channel = serializers.SerializerMethodField()
    bound_at = serializers.DateTimeField()

    class Meta:
        ref_name = "BoundContact"

    def get_conversation_id(self, binding) -> int | None:
        conversation = getattr(binding.contact, "conversation", None)
        return conversation.pk if conversation else None

    def get_channel(self, binding) -> dict:
        channel = binding.contact.channel
        return {"id": channel.pk, "name": channel.name, "platform": channel.platform}


class OrderRowSerializer(serializers.Serializer):
    """One of a member's orders, as the pane's order history lists it."""

    id = serializers.IntegerField()
    number = StrictCharField()
    date = serializers.DateField(help_text="The day it was placed, in the shop's time zone (Asia/Taipei).")
    created_at = serializers.DateTimeField()
    total = serializers.IntegerField(help_text="TWD.")
    status = StrictCharField()
    status_label = StrictCharField()
    url = StrictCharField(help_text="The back-office order page.")

    class Meta:
        ref_name = "CustomerOrder"


class CustomerSerializer(CustomerRefSerializer):
    """A member with everything the pane shows."""

    notes = StrictCharField(allow_blank=True)
    source = serializers.ChoiceField(choices=Customer.Source.choices)
    addresses = serializers.SerializerMethodField()
    contacts = serializers.SerializerMethodField()
    orders = serializers.SerializerMethodField(help_text="The past year's orders, newest first.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Customer"

    def get_addresses(self, customer) -> list[dict]:
        return AddressSerializer(selectors.current_addresses(customer), many=True).data

    def get_contacts(self, customer) -> list[dict]:
        return ContactRefSerializer(selectors.bound_contacts(customer), many=True).data

    @extend_schema_field(OrderRowSerializer(many=True))
    def get_orders(self, customer) -> list[dict]:
        return OrderRowSerializer(selectors.order_history(customer=customer, now=timezone.now()), many=True).data


class DuplicateSerializer(serializers.Serializer):
    detail = StrictCharField()
    outcome = serializers.ChoiceField(choices=["duplicate", "reenter"])
    matches = CustomerRefSerializer(many=True)
    by_field = serializers.DictField(child=serializers.IntegerField(), help_text='Which member has the "email" and which the "phone".')

    class Meta:
        ref_name = "CustomerDuplicate"


def duplicate_data(exc: DuplicateCustomer) -> dict:
    return {
        "detail": exc.message,
        "outcome": exc.outcome,
        "matches": CustomerRefSerializer(exc.matches, many=True).data,
        "by_field": exc.fields,
    }


_DUPLICATE = OpenApiResponse(DuplicateSerializer, description="The email or phone belongs to another member.")
# A rule the services enforce answers {"detail": "..."}; input that doesn't parse answers DRF's field errors
# ({"field": ["..."]}, nested for lists). Both are objects for people to read.
_BAD_REQUEST = OpenApiResponse(
    response={
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "additionalProperties": True,
    },
    description='{"detail": "..."} for a refused change, or {"<field>": ["..."]} for input that doesn\'t parse.',
)


# The base of the customers views: shop staff only; a clash of login details is a 409 with the matches.
class CustomersApi(InboxApi):
    def handle_exception(self, exc):
        if isinstance(exc, DuplicateCustomer):
            return Response(duplicate_data(exc), status=status.HTTP_409_CONFLICT)
        return super().handle_exception(exc)


class IsAdminToWrite(BasePermission):
    message = _("Only administrators may change store credit.")

    def has_permission(self, request, view):
        return request.method in ("GET", "HEAD", "OPTIONS") or is_inbox_admin(request.user)


class TierField(serializers.PrimaryKeyRelatedField):
    """A tier id; one beyond the database's integer range is "does not exist", not a crash."""

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool) and not selectors.valid_id(data):
            self.fail("does_not_exist", pk_value=data)
        if isinstance(data, str) and data.isdigit() and not selectors.valid_id(int(data)):
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class TagsField(serializers.ListField):
    child = StrictCharField(max_length=50, allow_blank=True)
    max_length = services.MAX_TAGS


class DetailsInputSerializer(serializers.Serializer):
    """Login details as typed: normalized (and checked) by the services."""

    name = StrictCharField(required=False, allow_blank=True, max_length=200)
    email = StrictCharField(required=False, allow_blank=True, max_length=254)
    phone = StrictCharField(required=False, allow_blank=True, max_length=40)

    class Meta:
        ref_name = "CustomerDetailsInput"


# --- Members ---------------------------------------------------------------------------------------------


def customer_payload(customer: Customer) -> dict:
    fresh = selectors.customer_get(customer.pk) or customer
    return CustomerSerializer(fresh).data


@extend_schema(tags=["customers"])
class CustomerListCreateApi(CustomersApi):
    class FilterSerializer(serializers.Serializer):
        q = StrictCharField(required=False, default="", allow_blank=True, max_length=100, help_text="Name, email, phone (any spelling, partial) or tag.")
        tier = serializers.IntegerField(required=False, min_value=1, max_value=selectors.MAX_ID)
        tag = StrictCharField(required=False, default="", allow_blank=True, max_length=50)
        has_orders = serializers.BooleanField(required=False, allow_null=True, default=None)
        limit = serializers.IntegerField(required=False, default=20, min_value=1, max_value=100)

        class Meta:
            ref_name = "CustomerListFilter"

    class ListOutputSerializer(serializers.Serializer):
        results = CustomerRefSerializer(many=True)

        class Meta:
            ref_name = "CustomerList"

    class InputSerializer(DetailsInputSerializer):
        tier = TierField(queryset=MemberTier.objects.all(), required=False, allow_null=True)
        tags = TagsField(required=False)
        notes = StrictCharField(required=False, allow_blank=True, max_length=services.MAX_NOTES)

        class Meta:
            ref_name = "CustomerCreateInput"

    @extend_schema(
        operation_id="v1_customers_list",
        summary="Find members (as the agent types) or list them with filters",
        parameters=[FilterSerializer],
        responses={200: ListOutputSerializer, 400: _BAD_REQUEST},
    )
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        rows = selectors.customer_list(q=data["q"], tier_id=data.get("tier"), tag=data["tag"], has_orders=data["has_orders"])
        return Response(self.ListOutputSerializer({"results": rows[: data["limit"]]}).data)

    @extend_schema(
        summary="Create a member (an email or a phone is enough)",
        request=InputSerializer,
        responses={201: CustomerSerializer, 400: _BAD_REQUEST, 409: _DUPLICATE},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = services.create_customer(
            name=data.get("name", ""),
            email=data.get("email", ""),
            phone=data.get("phone", ""),
            tier=data.get("tier"),
            tags=data.get("tags", []),
            notes=data.get("notes", ""),
            source=Customer.Source.BACK_OFFICE,
            actor=request.user,
        )
        return Response(customer_payload(customer), status=status.HTTP_201_CREATED)


@extend_schema(tags=["customers"])
class CustomerDetailApi(CustomersApi):
    class InputSerializer(DetailsInputSerializer):
        tier = TierField(queryset=MemberTier.objects.all(), required=False, allow_null=True)
        tags = TagsField(required=False)
        notes = StrictCharField(required=False, allow_blank=True, max_length=services.MAX_NOTES)

        class Meta:
            ref_name = "CustomerUpdateInput"

    @extend_schema(summary="One member", responses={200: CustomerSerializer, 404: ErrorSerializer})
    def get(self, request, customer_id: int):
        return Response(customer_payload(selectors.access_customer(request.user, customer_id)))

    @extend_schema(
        summary="Change a member's details (changes show everywhere the member is bound)",
        description="200 is the outcome \"updated\"; a 409 says the details belong to another member "
        '("duplicate": merge with it; "reenter": the email and the phone belong to two different members).',
        request=InputSerializer,
        responses={200: CustomerSerializer, 400: _BAD_REQUEST, 404: ErrorSerializer, 409: _DUPLICATE},
    )
    def patch(self, request, customer_id: int):
        customer = selectors.access_customer(request.user, customer_id)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        customer = services.update_customer(customer=customer, actor=request.user, **serializer.validated_data)
        return Response(customer_payload(customer))


@extend_schema(tags=["customers"])
class CustomerMergeApi(CustomersApi):
    class InputSerializer(serializers.Serializer):
        source = serializers.IntegerField(min_value=1, max_value=selectors.MAX_ID, help_text="The member merged into this one (it no longer exists afterwards).")
        email = StrictCharField(required=False, allow_blank=True, max_length=254, help_text="Set on this member after the merge.")
        phone = StrictCharField(required=False, allow_blank=True, max_length=40, help_text="Set on this member after the merge.")

        class Meta:
            ref_name = "CustomerMergeInput"

    @extend_schema(
        summary="Merge another member into this one",
        description="Moves chats, orders, addresses (at most 5 stay current, the rest are archived), tags, notes, "
        "credit entries and history; atomically, with both rows locked.",
        request=InputSerializer,
        responses={200: CustomerSerializer, 400: _BAD_REQUEST, 404: ErrorSerializer, 409: _DUPLICATE},
    )
    def post(self, request, customer_id: int):
        target = selectors.access_customer(request.user, customer_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        source = selectors.customer_get(data["source"])
        if source is None:
            raise ApplicationError(_("The member to merge no longer exists; it may have been merged already."))
        extra = {field: data[field] for field in ("email", "phone") if field in data}
        customer = services.merge_customers(target=target, source=source, actor=request.user, **extra)
        return Response(customer_payload(customer))


# --- Chats -----------------------------------------------------------------------------------------------


@extend_schema(tags=["customers"])
class ConversationBindApi(CustomersApi):
    class InputSerializer(DetailsInputSerializer):
        customer = serializers.IntegerField(
            required=False, min_value=1, max_value=selectors.MAX_ID, help_text="An existing member; the details then only fill its blanks."
        )

        class Meta:
            ref_name = "ConversationBindInput"

    @extend_schema(
        summary="Bind the conversation's contact to a member",
        description="With `customer`: bind to that member (200). Without: create a member from the details "
        "(an email or a phone is enough; the name defaults to the chat's) and bind it (201). "
        "A 409 lists the members the details clash with.",
        request=InputSerializer,
        responses={200: CustomerSerializer, 201: CustomerSerializer, 400: _BAD_REQUEST, 404: ErrorSerializer, 409: _DUPLICATE},
    )
    def post(self, request, conversation_id: int):
        conversation = selectors.access_conversation(request.user, conversation_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        details = {field: data.get(field, "") for field in ("name", "email", "phone")}
        if "customer" in data:
            customer = selectors.customer_get(data["customer"])
            if customer is None:
                raise ApplicationError(_("That member no longer exists; it may have been merged."))
            services.bind_contact(contact=conversation.contact, customer=customer, actor=request.user, **details)
            return Response(customer_payload(customer))
        customer = services.bind_new_customer(contact=conversation.contact, actor=request.user, **details)
        return Response(customer_payload(customer), status=status.HTTP_201_CREATED)


@extend_schema(tags=["customers"])
class ConversationUnbindApi(CustomersApi):
    class OutputSerializer(serializers.Serializer):
        customer_id = serializers.IntegerField(help_text="The member the chat was bound to (unchanged).")

        class Meta:
            ref_name = "ConversationUnbind"

    @extend_schema(
        summary="Unbind the conversation's contact from its member (nothing else is deleted)",
        request=None,
        responses={200: OutputSerializer, 400: _BAD_REQUEST, 404: ErrorSerializer},
    )
    def post(self, request, conversation_id: int):
        conversation = selectors.access_conversation(request.user, conversation_id)
        customer = services.unbind_contact(contact=conversation.contact, actor=request.user)
        return Response(self.OutputSerializer({"customer_id": customer.pk}).data)


class OrderCustomerMatchSerializer(serializers.Serializer):
    customer = CustomerRefSerializer(allow_null=True, help_text="The existing member; null when the details match none.")
    via = serializers.ChoiceField(
        choices=["member", "phone", "email", ""],
        help_text='"member": the order belongs to it; "phone"/"email": the order\'s recipient details are its login; "": no member.',
    )
    order_id = serializers.IntegerField()
    order_number = StrictCharField()
    order_url = StrictCharField()
    name = StrictCharField(help_text="The details the order carries.")
    phone = StrictCharField()
    email = StrictCharField()

    class Meta:
        ref_name = "OrderCustomerMatch"


@extend_schema(tags=["customers"])
class ConversationOrderCustomersApi(CustomersApi):
    """Flow (C): the members this chat's orders point at (a live-stream order, say), and confirming one."""

    class InputSerializer(serializers.Serializer):
        customer = serializers.IntegerField(min_value=1, max_value=selectors.MAX_ID, help_text="A member from the GET list.")

        class Meta:
            ref_name = "OrderCustomerConfirmInput"

    class OutputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(
            choices=["bound", "merged", "unchanged"],
            help_text='"bound": the chat is bound to the member; "merged": the chat\'s member was merged into it.',
        )
        customer = CustomerSerializer()

        class Meta:
            ref_name = "OrderCustomerConfirm"

    @extend_schema(
        summary="Members (or customer details) found on this chat's orders",
        description="Leaves out the member the chat is bound to; details matching no member are listed only while "
        "the chat is unbound.",
        responses={200: OrderCustomerMatchSerializer(many=True), 404: ErrorSerializer},
    )
    def get(self, request, conversation_id: int):
        conversation = selectors.access_conversation(request.user, conversation_id)
        bound = selectors.customer_for_conversation(conversation)
        matches = selectors.order_customer_matches(
            contact=conversation.contact, exclude_customer_id=bound.pk if bound else None, unmatched=bound is None
        )
        return Response(OrderCustomerMatchSerializer(matches, many=True).data)

    @extend_schema(
        summary="Confirm the member this chat's orders point at is the same customer",
        description="Binds the chat to it, or merges the chat's current member into it. A member the chat's "
        "orders don't point at is refused (400).",
        request=InputSerializer,
        responses={200: OutputSerializer, 400: _BAD_REQUEST, 404: ErrorSerializer},
    )
    def post(self, request, conversation_id: int):
        conversation = selectors.access_conversation(request.user, conversation_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = selectors.customer_get(serializer.validated_data["customer"])
        if customer is None:
            raise ApplicationError(_("That member no longer exists; it may have been merged."))
        customer, outcome = services.confirm_order_customer(contact=conversation.contact, customer=customer, actor=request.user)
        return Response({"outcome": outcome, "customer": customer_payload(customer)})


# --- Addresses -------------------------------------------------------------------------------------------


class AddressInputSerializer(serializers.Serializer):
    recipient_name = StrictCharField(max_length=100, allow_blank=True)
    recipient_phone = StrictCharField(required=False, allow_blank=True, max_length=40)
    postal_code = StrictCharField(required=False, allow_blank=True, max_length=10)
    city = StrictCharField(required=False, allow_blank=True, max_length=50)
    district = StrictCharField(required=False, allow_blank=True, max_length=50)
    street = StrictCharField(max_length=200, allow_blank=True)
    is_default = serializers.BooleanField(required=False, default=False, help_text="true makes it the default.")

    class Meta:
        ref_name = "AddressInput"


@extend_schema(tags=["customers"])
class AddressListCreateApi(CustomersApi):
    @extend_schema(summary="A member's saved addresses (the default first)", responses={200: AddressSerializer(many=True), 404: ErrorSerializer})
    def get(self, request, customer_id: int):
        customer = selectors.access_customer(request.user, customer_id)
        return Response(AddressSerializer(selectors.current_addresses(customer), many=True).data)

    @extend_schema(
        summary="Save an address (at most 5; the 6th is refused with a 400)",
        request=AddressInputSerializer,
        responses={201: AddressSerializer, 400: _BAD_REQUEST, 404: ErrorSerializer},
    )
    def post(self, request, customer_id: int):
        customer = selectors.access_customer(request.user, customer_id)
        serializer = AddressInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        address = services.add_address(customer=customer, actor=request.user, **serializer.validated_data)
        address.refresh_from_db()
        return Response(AddressSerializer(address).data, status=status.HTTP_201_CREATED)


def address_get(customer_id: int, address_id: int) -> Address:
    if not (selectors.valid_id(customer_id) and selectors.valid_id(address_id)):
        raise Http404
    return get_object_or_404(Address, pk=address_id, customer_id=customer_id)


@extend_schema(tags=["customers"])
class AddressDetailApi(CustomersApi):
    @extend_schema(
        summary="Change an address, or make it the default",
        request=AddressInputSerializer(partial=True),
        responses={200: AddressSerializer, 400: _BAD_REQUEST, 404: ErrorSerializer},
    )
    def patch(self, request, customer_id: int, address_id: int):
        address = address_get(customer_id, address_id)
        serializer = AddressInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        address = services.update_address(address=address, actor=request.user, is_default=data.pop("is_default", False), **data)
        return Response(AddressSerializer(address).data)

    @extend_schema(summary="Delete an address", responses={204: None, 404: ErrorSerializer})
    def delete(self, request, customer_id: int, address_id: int):
        address = address_get(customer_id, address_id)
        services.delete_address(address=address, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Store credit ----------------------------------------------------------------------------------------


class CreditEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="entry.pk")
    kind = StrictCharField(source="entry.kind")
    amount = serializers.IntegerField(source="entry.amount", help_text="TWD; negative takes credit away.")
    balance_after = serializers.IntegerField()
    reason = StrictCharField(source="entry.reason")
    order_id = serializers.IntegerField(source="entry.order_id", allow_null=True)
    expires_at = serializers.DateTimeField(source="entry.expires_at", allow_null=True)
    created_at = serializers.DateTimeField(source="entry.created_at")

    class Meta:
        ref_name = "CreditEntry"


@extend_schema(tags=["customers"])
class CustomerCreditApi(CustomersApi):
    """GET: every staff member. POST: administrators only."""

    permission_classes = [*CustomersApi.permission_classes, IsAdminToWrite]

    class InputSerializer(serializers.Serializer):
        amount = serializers.IntegerField(min_value=-10_000_000, max_value=10_000_000, help_text="Whole TWD; negative takes credit away.")
        reason = StrictCharField(max_length=200)
        expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

        class Meta:
            ref_name = "CreditAdjustInput"

    @extend_schema(summary="A member's store-credit ledger, newest first", responses={200: CreditEntrySerializer(many=True), 404: ErrorSerializer})
    def get(self, request, customer_id: int):
        customer = selectors.access_customer(request.user, customer_id)
        return Response(CreditEntrySerializer(selectors.credit_ledger(customer), many=True).data)

    @extend_schema(
        summary="Adjust store credit with a reason (administrators)",
        request=InputSerializer,
        responses={201: CreditEntrySerializer, 400: _BAD_REQUEST, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request, customer_id: int):
        customer = selectors.access_customer(request.user, customer_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.adjust_credit(customer=customer, actor=request.user, kind="adjustment", **serializer.validated_data)
        customer.refresh_from_db()
        return Response(
            CreditEntrySerializer({"entry": entry, "balance_after": customer.credit_balance}).data, status=status.HTTP_201_CREATED
        )
