"""The project's URLs plus the bare endpoint benchmark 1 compares against: a view that only checks a Messenger
signature and answers 200, on the same server.

It is mounted twice: under `/webhooks/` (served like the real webhooks, by config.asgi's webhook handler: the
fair ceiling for them) and under `/bench/` (Django's standard ASGI handler, as every other page is served), so
the run also shows what the webhook handler saves."""
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import handler404, urlpatterns as project_urlpatterns  # noqa: F401 (handler404 re-exported)
from integrations.messenger import signature

BARE_SECRET = "bench-bare-secret"


@csrf_exempt
def bare(request):
    body = request.read(settings.WEBHOOK_MAX_BODY_BYTES + 1)
    if signature.matching_secret(body, request.headers.get("X-Hub-Signature-256"), [BARE_SECRET]) is None:
        return JsonResponse({"error": "invalid signature"}, status=403)
    return HttpResponse("OK", content_type="text/plain")


urlpatterns = [path("webhooks/bench-bare/", bare), path("bench/bare/", bare), *project_urlpatterns]
