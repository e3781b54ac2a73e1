"""JSON API for what follows an order's placing (mounted at /api/v1/, see orders.confirmation_urls):
send or resend the link (and what it would cost first), attach a chat image as a proof, approve or
reject the payment, change the status. Staff only; the services in `orders.confirmation` do the work.

Errors become answers, never 500s: a service's ConfirmationError / ApplicationError -> 400 {"detail"};
bad input -> 400 {"field": [...]}; unknown ids -> 404.
"""
from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

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


class OrderLinkSendApi(OrderActionApi):
    """GET: what sending the link now would do (allowed? free or paid?). POST: send (or resend) it."""

    def get(self, request, order_id: int):
        order = self.order(order_id)
        return Response({"order": order_payload(order), "window": confirmation.link_decision(order=order)})

    def post(self, request, order_id: int):
        result = confirmation.send_order_link(order=self.order(order_id), actor=request.user)
        order = Order.objects.get(pk=order_id)
        return Response(
            {"sent": result.sent, "reason": result.reason, "window": result.window, "message_id": result.message.pk if result.message else None,
             "order": order_payload(order)},
            status=status.HTTP_200_OK if result.sent else status.HTTP_409_CONFLICT,
        )


class OrderPaymentApproveApi(OrderActionApi):
    def post(self, request, order_id: int):
        return Response({"order": order_payload(confirmation.approve_payment(order=self.order(order_id), actor=request.user))})


class OrderPaymentRejectApi(OrderActionApi):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=300, allow_blank=True)

    def post(self, request, order_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = confirmation.reject_payment(order=self.order(order_id), actor=request.user, reason=data.validated_data["reason"])
        return Response({"order": order_payload(order)})


class OrderStatusChangeApi(OrderActionApi):
    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=OrderStatus.choices)

    def post(self, request, order_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = confirmation.change_status(order=self.order(order_id), actor=request.user, status=data.validated_data["status"])
        return Response({"order": order_payload(order)})


class MessageAttachToOrderApi(OrderActionApi):
    """Attach an image the customer sent in the chat to an order of that conversation as a transfer
    proof. Without `order_id`: the conversation's newest order still waiting for a payment."""

    class InputSerializer(serializers.Serializer):
        order_id = serializers.IntegerField(required=False, min_value=1, max_value=2**62)

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
