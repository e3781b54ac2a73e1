"""The customers JSON API, included at /api/v1/ after the inbox's (see customers.api)."""
from django.urls import path

from customers import api

app_name = "customers-api"

urlpatterns = [
    path("customers/", api.CustomerListCreateApi.as_view(), name="customer-list"),
    path("customers/<int:customer_id>/", api.CustomerDetailApi.as_view(), name="customer-detail"),
    path("customers/<int:customer_id>/merge/", api.CustomerMergeApi.as_view(), name="customer-merge"),
    path("customers/<int:customer_id>/addresses/", api.AddressListCreateApi.as_view(), name="address-list"),
    path("customers/<int:customer_id>/addresses/<int:address_id>/", api.AddressDetailApi.as_view(), name="address-detail"),
    path("customers/<int:customer_id>/credit/", api.CustomerCreditApi.as_view(), name="customer-credit"),
    path("conversations/<int:conversation_id>/bind/", api.ConversationBindApi.as_view(), name="conversation-bind"),
    path("conversations/<int:conversation_id>/unbind/", api.ConversationUnbindApi.as_view(), name="conversation-unbind"),
    path(
        "conversations/<int:conversation_id>/order-customers/", api.ConversationOrderCustomersApi.as_view(), name="conversation-order-customers"
    ),
]
