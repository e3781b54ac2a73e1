"""The customer's order pages, included at /o/ (see orders.public)."""
from django.urls import path

from orders import public

app_name = "orders-public"

urlpatterns = [
    path("privacy/", public.privacy, name="privacy"),
    path("<str:token>/", public.order_page, name="order"),
    path("<str:token>/confirm/", public.order_confirm, name="confirm"),
    path("<str:token>/proofs/", public.order_upload, name="upload"),
    path("<str:token>/state/", public.order_state, name="state"),
]
