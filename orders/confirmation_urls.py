"""Order links, proofs, verification and status: JSON API included at /api/v1/ (orders.confirmation_api)."""
from django.urls import path

from orders import confirmation_api as api

app_name = "orders-confirmation-api"

urlpatterns = [
    path("orders/<int:order_id>/link/", api.OrderLinkSendApi.as_view(), name="order-link"),
    path("orders/<int:order_id>/payment/approve/", api.OrderPaymentApproveApi.as_view(), name="payment-approve"),
    path("orders/<int:order_id>/payment/reject/", api.OrderPaymentRejectApi.as_view(), name="payment-reject"),
    path("orders/<int:order_id>/status/", api.OrderStatusChangeApi.as_view(), name="order-status"),
    path("messages/<int:message_id>/attach-to-order/", api.MessageAttachToOrderApi.as_view(), name="message-attach"),
]
