"""The back office's order pages, included at /orders/ (orders.backoffice)."""
from django.urls import path

from orders import backoffice

app_name = "orders-backoffice"

urlpatterns = [
    path("", backoffice.order_list, name="list"),
    path("<int:order_id>/", backoffice.order_detail, name="detail"),
    path("<int:order_id>/proofs/<int:proof_id>/", backoffice.proof_file, name="proof"),
    path("activity/<int:conversation_id>/", backoffice.conversation_activity, name="activity"),
]
