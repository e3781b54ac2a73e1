"""JSON API for what follows an order's placing (mounted at /api/v1/, see orders.confirmation_urls):
send or resend the link (and what it would cost first), attach a chat image as a proof, approve or
reject the payment, change the status. Staff only; the services in `orders.confirmation` do the work.

Errors become answers, never 500s: a service's ConfirmationError / ApplicationError -> 400 {"detail"};
bad input -> 400 {"field": [...]}; unknown ids -> 404.
"""
from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.serializer_fields import StrictCharField
from inbox.api import DecisionSerializer, ErrorSerializer
from inbox.errors import ApplicationError
from inbox.models import Message
from inbox.permissions import IsInboxStaff
from orders import confirmation
from orders.errors import OrdersError
from orders.models import Order, OrderStatus, PaymentStatus


def order_payload(order: Order) -> dict:
    return {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "status_label": str(order.get_status_display()),
        "payment_status": order.payment_status,
        "payment_status_label": str(order.get_payment_status_display()),
        "conversation_id": order.conversation_id,
        "link_sent_at": order.link_sent_at.isoformat() if order.link_sent_at else None,
        "link_error": order.link_error,
        "confirmed_at": order.confirmed_at.isoformat() if order.confirmed_at else None,
        "total": order.total,
    }


# --- What the views answer (for the OpenAPI schema; `order_payload` builds the order part) --------------


class OrderStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = StrictCharField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    status_label = StrictCharField()
    payment_status = serializers.ChoiceField(choices=PaymentStatus.choices)
    payment_status_label = StrictCharField()
    conversation_id = serializers.IntegerField(allow_null=True)
    link_sent_at = serializers.DateTimeField(allow_null=True)
    link_error = StrictCharField(allow_blank=True, help_text='Why the link was not sent ("link not sent"); empty once sent.')
    confirmed_at = serializers.DateTimeField(allow_null=True)
    total = serializers.IntegerField(help_text="TWD.")

    class Meta:
        ref_name = "OrderState"


class OrderStateOutputSerializer(serializers.Serializer):
    order = OrderStateSerializer()

    class Meta:
        ref_name = "OrderStateOutput"


class LinkDecisionOutputSerializer(serializers.Serializer):
    order = OrderStateSerializer()
    window = DecisionSerializer(allow_null=True, help_text="What sending the link now would do; null without a conversation.")

    class Meta:
        ref_name = "OrderLinkDecision"


class LinkSendOutputSerializer(serializers.Serializer):
    sent = serializers.BooleanField()
    reason = StrictCharField(allow_blank=True, help_text="Why it was not sent (empty when sent).")
    window = DecisionSerializer(allow_null=True, help_text="How it was sent (free LINE reply or paid push), or why not.")
    message_id = serializers.IntegerField(allow_null=True)
    order = OrderStateSerializer()

    class Meta:
        ref_name = "OrderLinkSend"


class ProofAttachedOutputSerializer(serializers.Serializer):
    proof_id = serializers.IntegerField()
    order = OrderStateSerializer()

    class Meta:
        ref_name = "OrderProofAttached"


# A 400 is {"detail": "..."} when the service refuses, or DRF's {"<field>": ["..."]} for bad input.
BAD_REQUEST = OpenApiResponse(
    {"type": "object", "additionalProperties": True},
    description='Refused or bad input: {"detail": "..."} or {"<field>": ["..."]}.',
)
REFUSED = OpenApiResponse(ErrorSerializer, description="The step can't be done on this order now: {\"detail\": \"...\"}.")
COMMON_RESPONSES = {
    401: OpenApiResponse(ErrorSerializer, description="Not signed in."),
    403: OpenApiResponse(ErrorSerializer, description="Not shop staff."),
    404: OpenApiResponse(ErrorSerializer, description="No such order (or message)."),
}


class OrderActionApi(APIView):
    permission_classes = [IsInboxStaff]

    def order(self, order_id: int) -> Order:
        if order_id > 2**63 - 1:
            raise Http404
        return get_object_or_404(Order.objects.select_related("conversation__channel", "conversation__contact"), pk=order_id)

    def handle_exception(self, exc):
        if isinstance(exc, (OrdersError, ApplicationError)):
            return Response({"detail": str(exc.message)}, status=status.HTTP_400_BAD_REQUEST)
        return super().handle_exception(exc)


@extend_schema(tags=["orders"])
class OrderLinkSendApi(OrderActionApi):
    """GET: what sending the link now would do (allowed? free or paid?). POST: send (or resend) it."""

    @extend_schema(
        operation_id="v1_orders_link_decision",
        summary="What sending the order's confirmation link now would do",
        description="Allowed or not and why; on LINE a free reply (a valid reply token) or a paid push.",
        responses={200: LinkDecisionOutputSerializer, **COMMON_RESPONSES},
    )
    def get(self, request, order_id: int):
        order = self.order(order_id)
        return Response({"order": order_payload(order), "window": confirmation.link_decision(order=order)})

    @extend_schema(
        operation_id="v1_orders_link_send",
        summary="Send (or resend) the order's confirmation link into its conversation",
        request=None,
        responses={
            200: LinkSendOutputSerializer,
            400: REFUSED,
            409: OpenApiResponse(
                LinkSendOutputSerializer,
                description="The platform's rules don't allow it now: not sent (`sent` false, `reason`); "
                'the order is marked "link not sent".',
            ),
            **COMMON_RESPONSES,
        },
    )
    def post(self, request, order_id: int):
        result = confirmation.send_order_link(order=self.order(order_id), actor=request.user)
        order = Order.objects.get(pk=order_id)
        return Response(
            {"sent": result.sent, "reason": result.reason, "window": result.window, "message_id": result.message.pk if result.message else None,
             "order": order_payload(order)},
            status=status.HTTP_200_OK if result.sent else status.HTTP_409_CONFLICT,
        )


@extend_schema(tags=["orders"])
class OrderPaymentApproveApi(OrderActionApi):
    @extend_schema(
        summary="Approve the order's payment (the transfer is verified)",
        request=None,
        responses={200: OrderStateOutputSerializer, 400: REFUSED, **COMMON_RESPONSES},
    )
    def post(self, request, order_id: int):
        return Response({"order": order_payload(confirmation.approve_payment(order=self.order(order_id), actor=request.user))})


@extend_schema(tags=["orders"])
class OrderPaymentRejectApi(OrderActionApi):
    class InputSerializer(serializers.Serializer):
        reason = StrictCharField(max_length=300, allow_blank=True, help_text="Told to the customer (required, at most 300 characters).")

        class Meta:
            ref_name = "OrderPaymentRejectInput"

    @extend_schema(
        summary="Reject the order's transfer proof, with the reason told to the customer",
        request=InputSerializer,
        responses={200: OrderStateOutputSerializer, 400: BAD_REQUEST, **COMMON_RESPONSES},
    )
    def post(self, request, order_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = confirmation.reject_payment(order=self.order(order_id), actor=request.user, reason=data.validated_data["reason"])
        return Response({"order": order_payload(order)})


@extend_schema(tags=["orders"])
class OrderStatusChangeApi(OrderActionApi):
    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=OrderStatus.choices)

        class Meta:
            ref_name = "OrderStatusChangeInput"

    @extend_schema(
        summary="Move the order to another status (cancelling gives stock and credit back)",
        request=InputSerializer,
        responses={200: OrderStateOutputSerializer, 400: BAD_REQUEST, **COMMON_RESPONSES},
    )
    def post(self, request, order_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = confirmation.change_status(order=self.order(order_id), actor=request.user, status=data.validated_data["status"])
        return Response({"order": order_payload(order)})


@extend_schema(tags=["orders"])
class MessageAttachToOrderApi(OrderActionApi):
    """Attach an image the customer sent in the chat to an order of that conversation as a transfer
    proof. Without `order_id`: the conversation's newest order still waiting for a payment."""

    class InputSerializer(serializers.Serializer):
        order_id = serializers.IntegerField(required=False, min_value=1, max_value=2**62)

        class Meta:
            ref_name = "MessageAttachToOrderInput"

    @extend_schema(
        summary="Attach an image the customer sent in the chat to an order as its transfer proof",
        request=InputSerializer,
        responses={201: ProofAttachedOutputSerializer, 400: BAD_REQUEST, **COMMON_RESPONSES},
    )
    def post(self, request, message_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if message_id > 2**63 - 1:
            raise Http404
        message = get_object_or_404(Message, pk=message_id)
        orders = Order.objects.filter(conversation_id=message.conversation_id)
        if "order_id" in data.validated_data:
            order = get_object_or_404(orders, pk=data.validated_data["order_id"])
        else:
            order = (
                orders.filter(status__in=[OrderStatus.AWAITING_CONFIRMATION, OrderStatus.CONFIRMED])
                .exclude(payment_status__in=[PaymentStatus.PAID, PaymentStatus.ON_PICKUP])
                .order_by("-created_at", "-pk")
                .first()
            )
            if order is None:
                return Response({"detail": _no_order_message()}, status=status.HTTP_400_BAD_REQUEST)
        proof = confirmation.attach_message_image(order=order, message=message, actor=request.user)
        return Response({"proof_id": proof.pk, "order": order_payload(Order.objects.get(pk=order.pk))}, status=status.HTTP_201_CREATED)


def _no_order_message() -> str:
    from django.utils.translation import gettext as _

    return _("This conversation has no order waiting for a payment.")
