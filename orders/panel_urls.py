"""The quick-order panel fragment, included at /orders/quick-order/ (see orders.panel)."""
from django.urls import path

from orders import panel

app_name = "orders-panel"

urlpatterns = [
    path("<int:conversation_id>/", panel.quick_order_panel, name="quick-order"),
]
