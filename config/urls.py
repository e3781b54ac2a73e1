from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.http import JsonResponse
from django.views.defaults import page_not_found
from django.views.static import serve
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("", RedirectView.as_view(url="/inbox/", permanent=False)),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("inbox/", include("inbox.urls")),
    path("customers/", include("customers.urls")),
    path("orders/quick-order/", include("orders.panel_urls")),
    path("webhooks/", include("integrations.urls")),
    path("api/v1/", include("inbox.api_urls")),
    path("api/v1/", include("customers.api_urls")),
    path("api/v1/", include("orders.api_urls")),
    path("api/v1/", include("orders.confirmation_urls")),
    path("o/", include("orders.public_urls")),
    path("orders/", include("orders.backoffice_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script, so the CSP holds.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.SERVE_MEDIA:
    urlpatterns.append(
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})
    )
if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("integrations.sandbox.urls")))


def not_found(request, exception):
    """A path no route matches: JSON under /api/ (what API clients and the schema expect), else the page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


handler404 = not_found
