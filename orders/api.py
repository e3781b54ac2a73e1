"""The quick order's JSON API, mounted at /api/v1/: pricing, catalog, delivery, payment, stores, invoice,
orders and their drafts, custom products' pictures and the shop's saved order tags.

One view per operation, `<Entity><Action>Api`, with nested serializers (the inbox's API is the model).
Shop staff only (`IsInboxStaff`; deleting a saved tag: administrators). The catalog is managed in the
Django admin; `POST /quotes/` prices a cart without side effects; writes go through `orders.services`.

Errors become answers, never 500s, and the schema declares each one an operation can give:
- bad input -> DRF's 400 {"field": ["..."]} (nested as the input is); a body that isn't JSON -> 400 {"detail"};
- an item, gift or delivery method that can't be used, or a draft breaking a rule -> 400 {"detail", "errors": {"variant:12": "..."}};
- a cart the engine refuses (`PricingError`, e.g. a 6th custom discount) -> 400 {"detail", "code"};
- invalid invoice details -> 400 {"field": ["..."]};
- not signed in -> 401, not shop staff (or the chat is assigned to someone else) -> 403, unknown ids -> 404,
  all {"detail"};
- the order changed while it was being made -> 409 {"detail", "reasons", "errors"}; a stale draft or someone
  else editing it -> 409 {"detail", "draft"};
- a body in a format the view doesn't read (JSON to the picture upload, say) -> 415 {"detail"}.
"""
from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.serializer_fields import StrictCharField
from customers import selectors as customer_selectors
from inbox.api import ErrorSerializer as DetailSerializer
from inbox.permissions import IsInboxAdminOrReadOnly, IsInboxStaff
from inbox.selectors import access_conversation
from orders import pricing, selectors, services
from orders.errors import DraftConflict, OrderConflict, OrdersError, QuickOrderUnavailable
from orders.invoice import CarrierType, InvoiceError, InvoiceType, validate_invoice
from orders.logistics import DELIVERY_RULES, PAY_AT_PICKUP, DeliveryType, PaymentType, StoreChain, store_directory
from orders.models import CommerceSettings, DeliveryMethod, OrderStatus, OrderTag, PaymentStatus

MAX_CREDIT = 1_000_000_000
MAX_ID = 2**63 - 1  # the database's integer range: larger ids are bad input, not a crash


# --- What the views answer besides their results (for the OpenAPI schema) ---------------------------------

# DRF's answer to input that doesn't parse, per field, nested as the input is: a list of messages, or an object
# for a nested object (its fields' errors) or a list (its bad items' errors by position, e.g. {"lines": {"0":
# {"quantity": ["..."]}}}, or {"non_field_errors": ["..."]} for the list itself).
_FIELD_ERRORS = {
    "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}],
    "description": "This field's errors.",
}


def bad_query(description: str = "") -> OpenApiResponse:
    """A 400 for query parameters that don't parse: {"<parameter>": ["..."]}."""
    return OpenApiResponse(
        {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        description=description or 'A query parameter that doesn\'t parse: {"<parameter>": ["..."]}.',
    )


def bad_body(description: str) -> OpenApiResponse:
    """A 400 for a body: DRF's field errors, a refusal ({"detail"} with "errors" per line or field, or the
    pricing engine's "code"), or {"detail"} alone for a body that isn't JSON; `description` says which apply."""
    return OpenApiResponse(
        {
            "type": "object",
            "properties": {
                "detail": {"type": "string", "description": "Why, for people (a refusal, or a body that doesn't parse)."},
                "code": {"type": "string", "description": "The pricing engine's refusal code, when it refused."},
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "A refusal's details per line or field.",
                },
            },
            "additionalProperties": _FIELD_ERRORS,
        },
        description=description,
    )


NOT_SIGNED_IN = {401: OpenApiResponse(DetailSerializer, description="Not signed in (no session or token, or a bad token).")}
STAFF_ONLY = {**NOT_SIGNED_IN, 403: OpenApiResponse(DetailSerializer, description="Not shop staff.")}
# A quick order can't be taken in a chat assigned to someone else (QuickOrderUnavailable).
QUICK_ORDER_REFUSED = {
    **NOT_SIGNED_IN,
    403: OpenApiResponse(DetailSerializer, description="Not shop staff, or the conversation is assigned to someone else."),
}
UNSUPPORTED_BODY = {415: OpenApiResponse(DetailSerializer, description="A body in a format this operation doesn't read.")}


def not_found(what: str) -> dict:
    return {404: OpenApiResponse(DetailSerializer, description=f"No such {what}.")}


def found(row):
    """`row`, or a 404 when the selector found nothing (None)."""
    if row is None:
        raise Http404
    return row


# The base of the quick order's views: shop staff only, the services' errors answered as the module says,
# every operation under the schema's "quick order" tag (inherited, so no view repeats it).
@extend_schema(tags=["quick order"])
class OrdersApi(APIView):
    permission_classes = [IsInboxStaff]

    def handle_exception(self, exc):
        if isinstance(exc, OrderConflict):
            return Response(
                {"detail": str(exc.message), "reasons": exc.reasons, "errors": {k: str(v) for k, v in exc.errors.items()}},
                status=status.HTTP_409_CONFLICT,
            )
        if isinstance(exc, DraftConflict):
            body = {"detail": str(exc.message)}
            if exc.draft is not None:
                body["draft"] = services.draft_state(conversation=exc.draft.conversation, actor=self.request.user)
            return Response(body, status=status.HTTP_409_CONFLICT)
        if isinstance(exc, QuickOrderUnavailable):
            return Response({"detail": str(exc.message)}, status=status.HTTP_403_FORBIDDEN)
        if isinstance(exc, OrdersError):
            body = {"detail": str(exc.message)}
            if exc.errors:
                body["errors"] = {key: str(value) for key, value in exc.errors.items()}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        if isinstance(exc, pricing.PricingError):
            return Response({"detail": str(exc.message), "code": exc.code}, status=status.HTTP_400_BAD_REQUEST)
        if isinstance(exc, InvoiceError):
            return Response({k: [str(m) for m in v] for k, v in exc.errors.items()}, status=status.HTTP_400_BAD_REQUEST)
        return super().handle_exception(exc)

    def validated(self, serializer_class: type[serializers.Serializer], data=None) -> dict:
        """`data` (the request's body unless given, e.g. its query parameters) checked by `serializer_class`:
        its validated data, or DRF's 400 {"field": ["..."]}."""
        serializer = serializer_class(data=self.request.data if data is None else data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def params(self, serializer_class: type[serializers.Serializer]) -> dict:
        """The query parameters checked by `serializer_class` (a 400 {"<parameter>": ["..."]} otherwise)."""
        return self.validated(serializer_class, self.request.query_params)


# A write in the house's one shape (the inbox's `ConversationActionApi` is the model): the body checked by
# `InputSerializer`, one service call in `act`, which returns the answer's body (201 when `creates`). A
# subclass names its HTTP method, so the schema and the allowed methods stay explicit:
# `def post(self, request, **kwargs): return self.perform(request, **kwargs)`; the path's arguments reach
# `act` as keywords (e.g. `conversation_id`) once the body was checked. (Comments, not a docstring: DRF
# would show a docstring in every subclass's schema.)
class OrdersActionApi(OrdersApi):

    InputSerializer: type[serializers.Serializer]
    creates = False

    def act(self, *, data: dict, user, **kwargs):
        raise NotImplementedError

    def perform(self, request, **kwargs) -> Response:
        body = self.act(data=self.validated(self.InputSerializer), user=request.user, **kwargs)
        return Response(body, status=status.HTTP_201_CREATED if self.creates else status.HTTP_200_OK)


# --- Quotes ---------------------------------------------------------------------------------------------


class NoticeSerializer(serializers.Serializer):
    code = StrictCharField(help_text="Stable, for programs: e.g. coupon.below_minimum, credit.over_maximum.")
    message = StrictCharField(help_text="For people, in the request's language.")
    source = StrictCharField()
    source_id = serializers.IntegerField(allow_null=True)
    line_key = StrictCharField(allow_blank=True)

    class Meta:
        ref_name = "QuoteNotice"


class TouchSerializer(serializers.Serializer):
    line_key = StrictCharField()
    units = serializers.IntegerField()
    amount = serializers.IntegerField(help_text="Dollars taken off that line.")
    reward_units = serializers.IntegerField(help_text="Buy X get Y: the units given free or at the reduced price.")

    class Meta:
        ref_name = "QuoteTouch"


class AdjustmentSerializer(serializers.Serializer):
    step = StrictCharField(help_text="item_promotion, order_promotion, coupon, custom_discount, credit, shipping or tax.")
    source = StrictCharField()
    source_id = serializers.IntegerField(allow_null=True, help_text="Promotion or coupon id, custom discount position.")
    label = StrictCharField()
    amount = serializers.IntegerField(help_text="Negative for discounts and credit.")
    kind = StrictCharField(allow_blank=True)
    kind_label = StrictCharField(allow_blank=True)
    code = StrictCharField(allow_blank=True)
    touches = TouchSerializer(many=True)

    class Meta:
        ref_name = "QuoteAdjustment"


class LinePromotionSerializer(serializers.Serializer):
    promotion_id = serializers.IntegerField()
    name = StrictCharField()
    kind = StrictCharField()
    kind_label = StrictCharField(help_text="What the line shows: 任選, A+B 優惠, 買X享Y.")
    units = serializers.IntegerField()
    reward_units = serializers.IntegerField()
    discount = serializers.IntegerField()

    class Meta:
        ref_name = "QuoteLinePromotion"


class QuoteLineSerializer(serializers.Serializer):
    key = StrictCharField(help_text="v<variant id>, g<gift id> or c<n> for the n-th custom product.")
    name = StrictCharField()
    sku = StrictCharField(allow_blank=True)
    product_id = serializers.IntegerField(allow_null=True)
    variant_id = serializers.IntegerField(allow_null=True)
    gift_id = serializers.IntegerField(allow_null=True)
    unit_price = serializers.IntegerField()
    quantity = serializers.IntegerField()
    amount = serializers.IntegerField()
    discount = serializers.IntegerField(help_text="Item promotions.")
    amount_after_promotions = serializers.IntegerField()
    order_discount_share = serializers.IntegerField()
    net = serializers.IntegerField()
    is_gift = serializers.BooleanField()
    is_custom = serializers.BooleanField()
    taxable = serializers.BooleanField()
    tax = serializers.IntegerField()
    promotions = LinePromotionSerializer(many=True)

    class Meta:
        ref_name = "QuoteLine"


class CouponResultSerializer(serializers.Serializer):
    code = StrictCharField()
    coupon_id = serializers.IntegerField(allow_null=True)
    label = StrictCharField()
    applied = serializers.BooleanField()
    discount = serializers.IntegerField()
    reasons = NoticeSerializer(many=True, help_text="Every condition it failed.")

    class Meta:
        ref_name = "QuoteCoupon"


class CustomDiscountResultSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    label = StrictCharField()
    requested = serializers.IntegerField()
    applied = serializers.IntegerField()

    class Meta:
        ref_name = "QuoteCustomDiscount"


class CreditResultSerializer(serializers.Serializer):
    offered = serializers.BooleanField(help_text="Show the credit field: the switch is on and the customer has credit.")
    eligible = serializers.BooleanField(help_text="The order reaches the minimum.")
    editable = serializers.BooleanField(help_text="Staff may change the amount.")
    balance = serializers.IntegerField()
    minimum_order = serializers.IntegerField()
    max_per_order = serializers.IntegerField(allow_null=True)
    max_allowed = serializers.IntegerField()
    requested = serializers.IntegerField(allow_null=True)
    applied = serializers.IntegerField()

    class Meta:
        ref_name = "QuoteCredit"


class ShippingResultSerializer(serializers.Serializer):
    method_id = serializers.IntegerField(allow_null=True)
    name = StrictCharField()
    code = StrictCharField(allow_blank=True)
    fee = serializers.IntegerField()
    free_threshold = serializers.IntegerField(allow_null=True)
    amount = serializers.IntegerField()
    free = serializers.BooleanField()
    short_of_free = serializers.IntegerField(allow_null=True, help_text="How much more for free shipping.")

    class Meta:
        ref_name = "QuoteShipping"


class LineTaxSerializer(serializers.Serializer):
    line_key = StrictCharField()
    base = serializers.IntegerField()
    amount = serializers.IntegerField()

    class Meta:
        ref_name = "QuoteLineTax"


class TaxResultSerializer(serializers.Serializer):
    mode = StrictCharField(help_text="none, included, all or per_product.")
    rate = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="Percent.")
    base = serializers.IntegerField()
    amount = serializers.IntegerField()
    added = serializers.BooleanField(help_text="Added to the total (false: included in it, shown only).")
    formula = StrictCharField(allow_blank=True)
    lines = LineTaxSerializer(many=True)

    class Meta:
        ref_name = "QuoteTax"


class QuoteSerializer(serializers.Serializer):
    lines = QuoteLineSerializer(many=True)
    subtotal = serializers.IntegerField()
    item_discount = serializers.IntegerField()
    after_item_promotions = serializers.IntegerField()
    order_discount = serializers.IntegerField()
    after_order_promotions = serializers.IntegerField()
    coupon = CouponResultSerializer(allow_null=True)
    after_coupon = serializers.IntegerField()
    custom_discounts = CustomDiscountResultSerializer(many=True)
    custom_discounts_left = serializers.SerializerMethodField(help_text="0: the add-discount button is greyed out.")
    merchandise = serializers.IntegerField(help_text="After custom discounts: what credit and free shipping are judged on.")
    credit = CreditResultSerializer()
    after_credit = serializers.IntegerField()
    shipping = ShippingResultSerializer(allow_null=True)
    tax = TaxResultSerializer()
    total = serializers.IntegerField()
    adjustments = AdjustmentSerializer(many=True)
    notices = NoticeSerializer(many=True)

    class Meta:
        ref_name = "Quote"

    def get_custom_discounts_left(self, quote: pricing.Quote) -> int:
        return pricing.MAX_CUSTOM_DISCOUNTS - len(quote.custom_discounts)


class QuoteCustomProductSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    unit_price = serializers.IntegerField(min_value=0, max_value=pricing.MAX_UNIT_PRICE)
    taxable = serializers.BooleanField(default=False, help_text="Per-product tax mode: carries the extra tax.")

    class Meta:
        ref_name = "QuoteCustomProductInput"


class QuoteLineInputSerializer(serializers.Serializer):
    variant_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    gift_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    custom = QuoteCustomProductSerializer(required=False, help_text="A custom product typed in the order.")
    quantity = serializers.IntegerField(min_value=1, max_value=pricing.MAX_QUANTITY)

    class Meta:
        ref_name = "QuoteLineInput"

    def validate(self, data):
        given = [key for key in ("variant_id", "gift_id", "custom") if data.get(key) is not None]
        if len(given) != 1:
            raise serializers.ValidationError(_("Give exactly one of variant_id, gift_id or custom."))
        return data


class QuoteCustomDiscountInputSerializer(serializers.Serializer):
    label = StrictCharField(
        max_length=pricing.MAX_DISCOUNT_LABEL, allow_blank=True, default="", help_text="Empty: the default name."
    )
    amount = serializers.IntegerField(min_value=0, max_value=pricing.MAX_UNIT_PRICE * pricing.MAX_QUANTITY)

    class Meta:
        ref_name = "QuoteCustomDiscountInput"


class QuoteCreateApi(OrdersActionApi):
    class InputSerializer(serializers.Serializer):
        lines = QuoteLineInputSerializer(many=True, max_length=pricing.MAX_LINES)
        coupon_code = StrictCharField(max_length=32, required=False, allow_blank=True, default="")
        custom_discounts = QuoteCustomDiscountInputSerializer(
            many=True, required=False, default=list, help_text="At most 5."
        )
        delivery_method_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID, default=None)
        credit_balance = serializers.IntegerField(
            min_value=0, max_value=MAX_CREDIT, default=0, help_text="Ignored when customer_id is given."
        )
        customer_id = serializers.IntegerField(
            required=False, allow_null=True, min_value=1, max_value=MAX_ID, default=None,
            help_text="The member ordering: their usable credit (from the ledger) and coupon uses are read on the server.",
        )
        credit_amount = serializers.IntegerField(
            min_value=0,
            max_value=MAX_CREDIT,
            required=False,
            allow_null=True,
            default=None,
            help_text="Credit staff entered; null for as much as allowed.",
        )

        class Meta:
            ref_name = "QuoteInput"

        def validate_custom_discounts(self, discounts):
            if len(discounts) > pricing.MAX_CUSTOM_DISCOUNTS:
                raise serializers.ValidationError(str(pricing.too_many_custom_discounts().message))
            return discounts

    @extend_schema(
        summary="Price a cart (no side effects)",
        description="Each line is one of {variant_id, quantity}, {gift_id, quantity} or "
        "{custom: {name, unit_price, taxable}, quantity}. The quote lists every line, each promotion on the "
        "lines it touched, each adjustment with its source, credit, shipping, tax, the total, and why any "
        "coupon, promotion or credit rule did not apply.",
        request=InputSerializer,
        responses={
            200: QuoteSerializer,
            400: bad_body(
                'Input that doesn\'t parse or an unknown member: {"<field>": ["..."]}; an item, gift or delivery method '
                'that can\'t be used: {"detail", "errors": {"variant:12": "..."}}; a cart the engine refuses: '
                '{"detail", "code"}; a body that isn\'t JSON: {"detail"}.'
            ),
            **STAFF_ONLY,
            **UNSUPPORTED_BODY,
        },
    )
    def post(self, request):
        return self.perform(request)

    def act(self, *, data, user):
        lines = []
        for line in data["lines"]:
            if line.get("variant_id") is not None:
                lines.append(selectors.VariantLine(variant_id=line["variant_id"], quantity=line["quantity"]))
            elif line.get("gift_id") is not None:
                lines.append(selectors.GiftLine(gift_id=line["gift_id"], quantity=line["quantity"]))
            else:
                custom = line["custom"]
                lines.append(
                    selectors.CustomLine(
                        name=custom["name"], unit_price=custom["unit_price"], quantity=line["quantity"], taxable=custom["taxable"]
                    )
                )
        now = timezone.now()
        balance, coupon_uses = data["credit_balance"], 0
        if data["customer_id"] is not None:
            customer = customer_selectors.customer_get(data["customer_id"])
            if customer is None:
                raise serializers.ValidationError({"customer_id": [str(_("This member no longer exists."))]})
            balance = services.usable_credit_balance(customer=customer, now=now)
            coupon = selectors.coupon_by_code(data["coupon_code"]) if data["coupon_code"] else None
            coupon_uses = services.coupon_uses_by(customer=customer, coupon_id=coupon.pk) if coupon else 0
        cart, context = selectors.pricing_inputs(
            lines=lines,
            now=now,
            coupon_code=data["coupon_code"],
            custom_discounts=[pricing.CustomDiscount(label=d["label"], amount=d["amount"]) for d in data["custom_discounts"]],
            delivery_method_id=data["delivery_method_id"],
            credit_balance=balance,
            credit_requested=data["credit_amount"],
            coupon_customer_uses=coupon_uses,
        )
        return QuoteSerializer(pricing.quote(cart, context)).data


# --- Catalog --------------------------------------------------------------------------------------------


class VariantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = StrictCharField()
    options = serializers.DictField(child=StrictCharField())
    label = StrictCharField()
    price = serializers.IntegerField()
    stock = serializers.IntegerField()
    weight_grams = serializers.IntegerField()

    class Meta:
        ref_name = "CatalogVariant"


class ProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = StrictCharField()
    description = StrictCharField(allow_blank=True)
    image = serializers.SerializerMethodField()
    visibility = StrictCharField()
    is_custom = serializers.BooleanField()
    tags = serializers.SerializerMethodField()
    option_names = serializers.SerializerMethodField(help_text="The variant dropdowns, in order.")
    variants = VariantSerializer(many=True, source="variants.all")

    class Meta:
        ref_name = "CatalogProduct"

    def get_image(self, product) -> str:
        return product.image.url if product.image else ""

    def get_tags(self, product) -> list[str]:
        return [tag.name for tag in product.tags.all()]

    def get_option_names(self, product) -> list[str]:
        names: list[str] = [n for n in product.option_names or [] if isinstance(n, str)]
        for variant in product.variants.all():
            for name in variant.options or {}:
                if name not in names:
                    names.append(name)
        return names


class SearchFilterSerializer(serializers.Serializer):
    q = StrictCharField(required=False, default="", allow_blank=True, max_length=100)
    limit = serializers.IntegerField(required=False, default=50, min_value=1, max_value=100)

    class Meta:
        ref_name = "CatalogSearchFilter"


class ProductListApi(OrdersApi):
    @extend_schema(
        summary="Products to add to an order, searched by name, SKU or tag",
        parameters=[SearchFilterSerializer],
        responses={200: ProductSerializer(many=True), 400: bad_query(), **STAFF_ONLY},
    )
    def get(self, request):
        params = self.params(SearchFilterSerializer)
        products = selectors.product_list(q=params["q"], limit=params["limit"])
        return Response(ProductSerializer(products, many=True).data)


class GiftSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = StrictCharField()
    sku = StrictCharField()
    stock = serializers.IntegerField()
    image = serializers.SerializerMethodField()

    class Meta:
        ref_name = "CatalogGift"

    def get_image(self, gift) -> str:
        return gift.image.url if gift.image else ""


class GiftListApi(OrdersApi):
    @extend_schema(
        summary="Gifts (added at NT$0)",
        parameters=[SearchFilterSerializer],
        responses={200: GiftSerializer(many=True), 400: bad_query(), **STAFF_ONLY},
    )
    def get(self, request):
        params = self.params(SearchFilterSerializer)
        gifts = selectors.gift_list(q=params["q"])[: params["limit"]]
        return Response(GiftSerializer(gifts, many=True).data)


# --- Delivery and payment ------------------------------------------------------------------------------


class DeliveryMethodSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=DeliveryType.choices)
    name = StrictCharField(help_text="As the shop named it.")
    fee = serializers.IntegerField()
    free_threshold = serializers.IntegerField(allow_null=True)
    store_chain = serializers.SerializerMethodField(help_text="Store pickup: the chain to search stores of; null otherwise.")
    home_delivery = serializers.SerializerMethodField()
    cross_border = serializers.SerializerMethodField(help_text="Recipient details required; in English outside HK, MO, SG, MY.")

    class Meta:
        ref_name = "DeliveryMethod"

    def get_store_chain(self, method) -> str | None:
        chain = DELIVERY_RULES[DeliveryType(method.type)].store_chain
        return chain.value if chain else None

    def get_home_delivery(self, method) -> bool:
        return DELIVERY_RULES[DeliveryType(method.type)].home

    def get_cross_border(self, method) -> bool:
        return DELIVERY_RULES[DeliveryType(method.type)].cross_border


class DeliveryMethodListApi(OrdersApi):
    @extend_schema(
        summary="Delivery methods the shop offers (never hidden ones)",
        responses={200: DeliveryMethodSerializer(many=True), **STAFF_ONLY},
    )
    def get(self, request):
        return Response(DeliveryMethodSerializer(selectors.delivery_method_list(), many=True).data)


class PaymentMethodSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=PaymentType.choices)
    name = StrictCharField(help_text="As the shop named it.")
    instructions = StrictCharField(allow_blank=True)
    pay_at_pickup = serializers.SerializerMethodField()

    class Meta:
        ref_name = "PaymentMethod"

    def get_pay_at_pickup(self, method) -> bool:
        return method.type in PAY_AT_PICKUP


class PaymentMethodListApi(OrdersApi):
    class FilterSerializer(serializers.Serializer):
        delivery = serializers.IntegerField(
            required=False, min_value=1, max_value=MAX_ID, help_text="A delivery method id: only the payments it accepts."
        )

        class Meta:
            ref_name = "PaymentMethodFilter"

    @extend_schema(
        summary="Payment methods (never hidden ones), optionally those a delivery method accepts",
        parameters=[FilterSerializer],
        responses={
            200: PaymentMethodSerializer(many=True),
            400: bad_query('A delivery id that doesn\'t parse, or a method not offered: {"delivery": ["..."]}.'),
            **STAFF_ONLY,
        },
    )
    def get(self, request):
        params = self.params(self.FilterSerializer)
        delivery = None
        if "delivery" in params:
            delivery = DeliveryMethod.objects.filter(pk=params["delivery"], is_hidden=False).first()
            if delivery is None:
                return Response({"delivery": [str(_("This delivery method is not available."))]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(PaymentMethodSerializer(selectors.payment_method_list(delivery=delivery), many=True).data)


# --- Stores ---------------------------------------------------------------------------------------------


class StoreSerializer(serializers.Serializer):
    id = StrictCharField()
    chain = StrictCharField()
    name = StrictCharField()
    address = StrictCharField()
    district = StrictCharField(allow_blank=True)
    country = StrictCharField()

    class Meta:
        ref_name = "Store"


class StoreListApi(OrdersApi):
    class FilterSerializer(serializers.Serializer):
        chain = serializers.ChoiceField(choices=StoreChain.choices)
        q = StrictCharField(
            required=False, default="", allow_blank=True, max_length=100, help_text="Name, address, district or id."
        )
        limit = serializers.IntegerField(required=False, default=20, min_value=1, max_value=50)

        class Meta:
            ref_name = "StoreFilter"

    @extend_schema(
        summary="Find a pickup store (尋找門市)",
        parameters=[FilterSerializer],
        responses={200: StoreSerializer(many=True), 400: bad_query(), **STAFF_ONLY},
    )
    def get(self, request):
        params = self.params(self.FilterSerializer)
        stores = store_directory().search(chain=params["chain"], q=params["q"], limit=params["limit"])
        return Response(StoreSerializer(stores, many=True).data)


# --- Invoice --------------------------------------------------------------------------------------------


class InvoiceValidateApi(OrdersActionApi):
    class InputSerializer(serializers.Serializer):
        type = serializers.ChoiceField(choices=InvoiceType.choices)
        carrier_type = serializers.ChoiceField(choices=CarrierType.choices, required=False, allow_blank=True, default="")
        carrier_number = StrictCharField(required=False, allow_blank=True, default="", max_length=64)
        business_number = StrictCharField(required=False, allow_blank=True, default="", max_length=32)
        company_title = StrictCharField(required=False, allow_blank=True, default="", max_length=200)
        love_code = StrictCharField(required=False, allow_blank=True, default="", max_length=32)

        class Meta:
            ref_name = "InvoiceInput"

    class OutputSerializer(serializers.Serializer):
        type = StrictCharField()
        carrier_type = StrictCharField(allow_blank=True)
        carrier_number = StrictCharField(allow_blank=True)
        business_number = StrictCharField(allow_blank=True)
        company_title = StrictCharField(allow_blank=True)
        love_code = StrictCharField(allow_blank=True)
        summary = StrictCharField(help_text="What the invoice block shows.")

        class Meta:
            ref_name = "Invoice"

    @extend_schema(
        summary="Check e-invoice details (type, carrier, business number, love code)",
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: bad_body(
                'Details that don\'t parse or aren\'t valid: {"<field>": ["what is wrong"]}; a body that isn\'t JSON: {"detail"}.'
            ),
            **STAFF_ONLY,
            **UNSUPPORTED_BODY,
        },
    )
    def post(self, request):
        return self.perform(request)

    def act(self, *, data, user):
        invoice = validate_invoice(**data, currency=CommerceSettings.load().currency)
        return self.OutputSerializer(invoice.as_dict()).data


# --- Orders and drafts ----------------------------------------------------------------------------------


class OrderLineOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = StrictCharField()
    variant_id = serializers.IntegerField(allow_null=True)
    gift_id = serializers.IntegerField(allow_null=True)
    name = StrictCharField()
    sku = StrictCharField(allow_blank=True)
    options = StrictCharField(allow_blank=True)
    image_url = StrictCharField(allow_blank=True, help_text="The product's picture (a custom product's uploaded one).")
    unit_price = serializers.IntegerField()
    quantity = serializers.IntegerField()
    line_total = serializers.IntegerField()

    class Meta:
        ref_name = "OrderLine"


class OrderAdjustmentOutputSerializer(serializers.Serializer):
    kind = StrictCharField()
    source_id = serializers.IntegerField(allow_null=True)
    label = StrictCharField()
    amount = serializers.IntegerField()
    line_id = serializers.IntegerField(allow_null=True)

    class Meta:
        ref_name = "OrderAdjustment"


class OrderSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = StrictCharField()
    status = StrictCharField()
    status_label = StrictCharField(source="get_status_display")
    payment_status = StrictCharField()
    payment_status_label = StrictCharField(source="get_payment_status_display")
    conversation_id = serializers.IntegerField(allow_null=True)
    customer_id = serializers.IntegerField(allow_null=True)
    delivery_name = StrictCharField(allow_blank=True)
    payment_name = StrictCharField(allow_blank=True)
    recipient = serializers.DictField()
    total = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "OrderSummary"


class OrderOutputSerializer(OrderSummarySerializer):
    """An order whole: the list's summary, and everything else it was placed with."""

    delivery_type = StrictCharField(allow_blank=True)
    pickup_store = serializers.DictField()
    payment_type = StrictCharField(allow_blank=True)
    invoice = serializers.DictField()
    tags = serializers.ListField(child=StrictCharField())
    note = StrictCharField(allow_blank=True)
    subtotal = serializers.IntegerField()
    discount_total = serializers.IntegerField()
    credit_used = serializers.IntegerField()
    shipping_fee = serializers.IntegerField()
    tax = serializers.IntegerField()
    tax_included = serializers.BooleanField()
    lines = OrderLineOutputSerializer(many=True, source="lines.all")
    adjustments = OrderAdjustmentOutputSerializer(many=True, source="adjustments.all")

    class Meta:
        ref_name = "Order"


class ConflictReasonSerializer(serializers.Serializer):
    code = StrictCharField(help_text="stock, coupon, credit, total, customer or unavailable.")
    message = StrictCharField(help_text="For people, in the request's language.")
    field = StrictCharField(allow_blank=True, help_text='What to fix: e.g. "variant:12", "coupon_code", "expected_total".')

    class Meta:
        ref_name = "OrderConflictReason"


class ConflictSerializer(serializers.Serializer):
    detail = StrictCharField()
    reasons = ConflictReasonSerializer(many=True)
    errors = serializers.DictField(child=StrictCharField(), help_text="The reasons' messages by field.")

    class Meta:
        ref_name = "OrderConflict"


class OrderListFilterSerializer(serializers.Serializer):
    q = StrictCharField(required=False, default="", allow_blank=True, max_length=100, help_text="Order number, recipient's or member's name, or phone.")
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False, default="")
    payment_status = serializers.ChoiceField(choices=PaymentStatus.choices, required=False, default="")
    page = serializers.IntegerField(required=False, default=1, min_value=1, max_value=MAX_ID)

    class Meta:
        ref_name = "OrderListFilter"


class OrderPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Orders matching, on every page.")
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    results = OrderSummarySerializer(many=True)

    class Meta:
        ref_name = "OrderPage"


ORDER_PAGE_SIZE = 50


class OrderListCreateApi(OrdersActionApi):
    creates = True

    @extend_schema(
        summary="Orders, newest first: search and filters, 50 a page (the back office's order list)",
        parameters=[OrderListFilterSerializer],
        responses={200: OrderPageSerializer, 400: bad_query(), **STAFF_ONLY},
    )
    def get(self, request):
        params = self.params(OrderListFilterSerializer)
        rows = selectors.order_list(q=params["q"], status=params["status"], payment_status=params["payment_status"])
        paginator = Paginator(rows, ORDER_PAGE_SIZE)
        page = paginator.get_page(params["page"])  # past the last page: the last page
        return Response(
            OrderPageSerializer({"count": paginator.count, "page": page.number, "pages": paginator.num_pages, "results": page.object_list}).data
        )

    class InputSerializer(serializers.Serializer):
        conversation_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        draft = serializers.DictField(help_text="The quick order's draft (see orders.services); re-priced on the server.")

        class Meta:
            ref_name = "OrderCreateInput"

    @extend_schema(
        summary="Create an order from a conversation's quick order",
        request=InputSerializer,
        responses={
            201: OrderOutputSerializer,
            400: bad_body(
                'Input that doesn\'t parse: {"<field>": ["..."]}; a draft that breaks a rule (no member bound, '
                'delivery, recipient, invoice, tags...): {"detail", "errors": {"<field>": "..."}}; a cart the '
                'engine refuses: {"detail", "code"}; a body that isn\'t JSON: {"detail"}.'
            ),
            **QUICK_ORDER_REFUSED,
            **not_found("conversation"),
            409: OpenApiResponse(
                ConflictSerializer,
                description="Stock, the coupon, the member's credit or the total shown changed while the order was "
                "being made: nothing was created.",
            ),
            **UNSUPPORTED_BODY,
        },
    )
    def post(self, request):
        return self.perform(request)

    def act(self, *, data, user):
        conversation = access_conversation(user, data["conversation_id"])
        return OrderOutputSerializer(services.place_order(conversation=conversation, actor=user, draft=data["draft"])).data


class OrderDetailApi(OrdersApi):
    @extend_schema(
        summary="An order as it was placed (snapshots)",
        responses={200: OrderOutputSerializer, **STAFF_ONLY, **not_found("order")},
    )
    def get(self, request, order_id: int):
        return Response(OrderOutputSerializer(found(selectors.order_get(order_id))).data)


class DraftEditorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = StrictCharField(help_text="Their username.")

    class Meta:
        ref_name = "OrderDraftEditor"


class DraftStateSerializer(serializers.Serializer):
    conversation_id = serializers.IntegerField()
    data = serializers.DictField()
    version = serializers.IntegerField()
    editing_by = DraftEditorSerializer(allow_null=True, help_text="Who is editing it now (a claim a few minutes fresh).")
    editable = serializers.BooleanField()
    reason = StrictCharField(allow_blank=True, help_text="Why it can't be edited now (assigned to someone else, X is editing).")

    class Meta:
        ref_name = "OrderDraft"


class DraftConflictSerializer(serializers.Serializer):
    detail = StrictCharField(help_text="Changed elsewhere (reloaded), or who is editing it.")
    draft = DraftStateSerializer(required=False, help_text="The draft as it is now.")

    class Meta:
        ref_name = "OrderDraftConflict"


DRAFT_CONFLICT = {
    409: OpenApiResponse(DraftConflictSerializer, description="Someone else is editing the draft, or it changed since it was read."),
}


class OrderDraftApi(OrdersActionApi):
    class InputSerializer(serializers.Serializer):
        data = serializers.DictField()
        version = serializers.IntegerField(min_value=0, max_value=2**31 - 1, help_text="The version last read.")

        class Meta:
            ref_name = "OrderDraftInput"

    @extend_schema(
        summary="The conversation's quick-order draft",
        responses={200: DraftStateSerializer, **STAFF_ONLY, **not_found("conversation")},
    )
    def get(self, request, conversation_id: int):
        conversation = access_conversation(request.user, conversation_id)
        return Response(services.draft_state(conversation=conversation, actor=request.user))

    @extend_schema(
        summary="Save the draft (refused when stale or someone else is editing)",
        request=InputSerializer,
        responses={
            200: DraftStateSerializer,
            400: bad_body(
                'Input that doesn\'t parse: {"<field>": ["..."]}; a draft too large or with bad tags or note: '
                '{"detail", "errors"?}; more custom discounts than allowed: {"detail", "code"}; a body that isn\'t JSON: {"detail"}.'
            ),
            **QUICK_ORDER_REFUSED,
            **not_found("conversation"),
            **DRAFT_CONFLICT,
            **UNSUPPORTED_BODY,
        },
    )
    def put(self, request, conversation_id: int):
        return self.perform(request, conversation_id=conversation_id)

    def act(self, *, data, user, conversation_id: int):
        conversation = access_conversation(user, conversation_id)
        services.save_draft(conversation=conversation, actor=user, **data)
        return services.draft_state(conversation=conversation, actor=user)


class OrderDraftEditingApi(OrdersActionApi):
    class InputSerializer(serializers.Serializer):
        editing = serializers.BooleanField(help_text="true: claim (or renew) editing; false: release it.")

        class Meta:
            ref_name = "OrderDraftEditingInput"

    @extend_schema(
        summary="Claim or release editing of the draft",
        request=InputSerializer,
        responses={
            200: DraftStateSerializer,
            400: bad_body('Input that doesn\'t parse: {"editing": ["..."]}; a body that isn\'t JSON: {"detail"}.'),
            **QUICK_ORDER_REFUSED,
            **not_found("conversation"),
            **DRAFT_CONFLICT,
            **UNSUPPORTED_BODY,
        },
    )
    def post(self, request, conversation_id: int):
        return self.perform(request, conversation_id=conversation_id)

    def act(self, *, data, user, conversation_id: int):
        conversation = access_conversation(user, conversation_id)
        if data["editing"]:
            services.claim_draft_editing(conversation=conversation, actor=user)
        else:
            services.release_draft_editing(conversation=conversation, actor=user)
        return services.draft_state(conversation=conversation, actor=user)


# A `pricing.CouponOption`: its coupon's id, code and label beside the judgement. (A comment: the schema would
# show a docstring.)
class CouponOptionSerializer(serializers.Serializer):
    coupon_id = serializers.IntegerField(source="coupon.id")
    code = StrictCharField(source="coupon.code")
    label = StrictCharField(source="coupon.label")
    usable = serializers.BooleanField()
    discount = serializers.IntegerField()
    reasons = NoticeSerializer(many=True)

    class Meta:
        ref_name = "CouponOption"


class CustomerCouponListApi(OrdersApi):
    class FilterSerializer(serializers.Serializer):
        conversation = serializers.IntegerField(
            required=False, min_value=1, max_value=MAX_ID, help_text="Judge the coupons against this conversation's draft cart."
        )
        all = serializers.BooleanField(required=False, default=False, help_text="Also list unusable ones, with reasons.")

        class Meta:
            ref_name = "CustomerCouponFilter"

    @extend_schema(
        summary="The member's usable coupons for the order being built",
        parameters=[FilterSerializer],
        responses={
            200: CouponOptionSerializer(many=True),
            400: bad_query(),
            **STAFF_ONLY,
            **not_found("member (or conversation)"),
        },
    )
    def get(self, request, customer_id: int):
        params = self.params(self.FilterSerializer)
        customer = found(customer_selectors.customer_get(customer_id))
        draft = {}
        if "conversation" in params:
            draft = services.draft_state(conversation=access_conversation(request.user, params["conversation"]), actor=request.user)["data"]
        options = services.coupon_options_for(customer=customer, draft=draft, now=timezone.now())
        if not params["all"]:
            options = [o for o in options if o.usable]
        return Response(CouponOptionSerializer(options, many=True).data)


# --- Custom product images ------------------------------------------------------------------------------


class CustomImageSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Give it as the custom product's image_id in the draft.")
    url = serializers.SerializerMethodField()
    content_type = StrictCharField()
    size = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()

    class Meta:
        ref_name = "CustomProductImage"

    def get_url(self, image) -> str:
        return image.file.url


class CustomImageCreateApi(OrdersActionApi):
    parser_classes = [MultiPartParser, FormParser]
    creates = True

    class InputSerializer(serializers.Serializer):
        image = serializers.FileField(
            allow_empty_file=True,  # orders.images says "the file is empty" itself
            help_text="JPEG, PNG, WebP or HEIC/HEIF, at most 10 MB; judged by content, re-encoded (HEIC as JPEG).",
        )

        class Meta:
            ref_name = "CustomProductImageInput"

    @extend_schema(
        summary="Upload a custom product's picture (before the order is created)",
        request={"multipart/form-data": InputSerializer},
        responses={
            201: CustomImageSerializer,
            400: bad_body(
                'No file: {"image": ["..."]}; a file that isn\'t an image we take (type, size, pixels): {"detail"}; '
                "a form that doesn't parse: {\"detail\"}."
            ),
            **STAFF_ONLY,
            415: OpenApiResponse(DetailSerializer, description="Not a multipart/form-data (or form) body."),
        },
    )
    def post(self, request):
        return self.perform(request)

    def act(self, *, data, user):
        return CustomImageSerializer(services.upload_custom_image(upload=data["image"], actor=user)).data


# --- Saved order tags -----------------------------------------------------------------------------------


class OrderTagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = StrictCharField()

    class Meta:
        ref_name = "OrderTag"


class OrderTagListApi(OrdersActionApi):
    """Staff list the saved tags and save a typed one for reuse; deleting is for administrators."""

    creates = True

    class InputSerializer(serializers.Serializer):
        name = StrictCharField(max_length=200, help_text="At most 30 characters once spaces are collapsed.")

        class Meta:
            ref_name = "OrderTagInput"

    @extend_schema(summary="The shop's saved order tags", responses={200: OrderTagSerializer(many=True), **STAFF_ONLY})
    def get(self, request):
        return Response(OrderTagSerializer(selectors.order_tag_list(), many=True).data)

    @extend_schema(
        summary="Save an order tag for reuse (saving one already saved returns it)",
        request=InputSerializer,
        responses={
            201: OrderTagSerializer,
            400: bad_body(
                'Input that doesn\'t parse: {"name": ["..."]}; a tag refused (too long, too many saved): '
                '{"detail", "errors": {"name": "..."}}; a body that isn\'t JSON: {"detail"}.'
            ),
            **STAFF_ONLY,
            **UNSUPPORTED_BODY,
        },
    )
    def post(self, request):
        return self.perform(request)

    def act(self, *, data, user):
        return OrderTagSerializer(services.save_order_tag(name=data["name"], actor=user)).data


class OrderTagDetailApi(OrdersApi):
    permission_classes = [IsInboxAdminOrReadOnly]

    def _tag(self, tag_id: int) -> OrderTag:
        return found(OrderTag.objects.filter(pk=tag_id).first() if tag_id <= MAX_ID else None)

    @extend_schema(summary="A saved order tag", responses={200: OrderTagSerializer, **STAFF_ONLY, **not_found("saved tag")})
    def get(self, request, tag_id: int):
        return Response(OrderTagSerializer(self._tag(tag_id)).data)

    @extend_schema(
        summary="Stop offering a saved tag (administrators; orders keep their tags)",
        responses={
            204: None,
            **NOT_SIGNED_IN,
            403: OpenApiResponse(DetailSerializer, description="Not an administrator."),
            **not_found("saved tag"),
        },
    )
    def delete(self, request, tag_id: int):
        services.delete_order_tag(tag=self._tag(tag_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
