"""ASGI entry point: HTTP through Django, websockets through Channels (Origin + Auth checked).

The platforms' webhooks (`/webhooks/`) go through `WebhookHandler`, the same Django (settings, middleware,
URLs, views) run more cheaply per request; everything else through Django's standard ASGI handler.
"""
import os
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.core.asgi import get_asgi_application
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from config.connections import keep_working_connections  # noqa: E402
from inbox.routing import websocket_urlpatterns  # noqa: E402

WEBHOOK_PREFIX = "/webhooks/"


class WebhookHandler(ASGIHandler):
    """Django's ASGI handler for the webhook routes, made cheap per request (benchmark 1, docs/benchmarks.md).

    - The middleware chain and the view run synchronously, in one call, as under WSGI. (Django's async
      handler runs each hook of each classic middleware through its own thread hand-off: about 20 per
      request with this project's 10 middlewares, most of a webhook's cost.) Same middleware, same headers.
    - That call runs on a few long-lived threads (WEBHOOK_THREADS) that keep their database connection
      between requests: connecting to PostgreSQL costs about 5 ms, more than the webhook's own work. The
      standard handler runs each request in a thread of its own, which is why CONN_MAX_AGE stays 0 there.
      Connections are bounded: one per thread.
    """

    def __init__(self):
        self.executor = ThreadPoolExecutor(max_workers=settings.WEBHOOK_THREADS, thread_name_prefix="webhooks")
        super().__init__()

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)  # the synchronous chain, as a WSGI server would build it
        self._sync_chain = self._middleware_chain
        self._middleware_chain = sync_to_async(self._run_sync_chain, thread_sensitive=False, executor=self.executor)

    def _run_sync_chain(self, request):
        keep_working_connections()
        return self._sync_chain(request)


webhook_asgi_app = WebhookHandler()


async def http_app(scope, receive, send):
    app = webhook_asgi_app if scope["path"].startswith(WEBHOOK_PREFIX) else django_asgi_app
    await app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
