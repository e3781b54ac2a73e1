from django.urls import path

from customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list_page, name="list"),
    path("<int:customer_id>/", views.customer_detail_page, name="detail"),
    path("<int:customer_id>/credit/", views.customer_credit_adjust, name="credit"),
    path("pane/<int:conversation_id>/", views.customer_pane, name="pane"),
]
