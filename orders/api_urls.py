"""The quick order's JSON API, included at /api/v1/ (see orders.api)."""
from django.urls import path

from orders import api

app_name = "orders-api"

urlpatterns = [
    path("quotes/", api.QuoteCreateApi.as_view(), name="quote-create"),
    path("products/", api.ProductListApi.as_view(), name="product-list"),
    path("gifts/", api.GiftListApi.as_view(), name="gift-list"),
    path("delivery-methods/", api.DeliveryMethodListApi.as_view(), name="delivery-method-list"),
    path("payment-methods/", api.PaymentMethodListApi.as_view(), name="payment-method-list"),
    path("stores/", api.StoreListApi.as_view(), name="store-list"),
    path("invoice/validate/", api.InvoiceValidateApi.as_view(), name="invoice-validate"),
    path("orders/", api.OrderListCreateApi.as_view(), name="order-list-create"),
    path("orders/<int:order_id>/", api.OrderDetailApi.as_view(), name="order-detail"),
    path("conversations/<int:conversation_id>/order-draft/", api.OrderDraftApi.as_view(), name="order-draft"),
    path("conversations/<int:conversation_id>/order-draft/editing/", api.OrderDraftEditingApi.as_view(), name="order-draft-editing"),
    path("customers/<int:customer_id>/coupons/", api.CustomerCouponListApi.as_view(), name="customer-coupons"),
    path("custom-product-images/", api.CustomImageCreateApi.as_view(), name="custom-image-create"),
    path("order-tags/", api.OrderTagListApi.as_view(), name="order-tag-list"),
    path("order-tags/<int:tag_id>/", api.OrderTagDetailApi.as_view(), name="order-tag-detail"),
]
