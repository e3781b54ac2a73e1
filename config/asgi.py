"""ASGI entry point: HTTP through Django, websockets through Channels (Origin + Auth checked).

The platforms' webhooks (`/webhooks/`) go through `WebhookHandler`, the same Django (settings, middleware,
URLs, views; the middleware a platform's request needs) run more cheaply per request; everything else through Django's standard ASGI handler.
"""
import io
import os
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.core.asgi import get_asgi_application
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.urls import get_resolver, set_script_prefix

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from config import daphne_requests  # noqa: E402
from config.startup import freeze_loaded_objects  # noqa: E402
from config.connections import keep_working_connections  # noqa: E402
from inbox.routing import websocket_urlpatterns  # noqa: E402

WEBHOOK_PREFIX = "/webhooks/"


class WebhookHandler(ASGIHandler):
    """Django's ASGI handler for the webhook routes, made cheap per request (benchmark 1, docs/benchmarks.md).

    - Each request is one call on a thread, as under WSGI: the request is built, the middleware chain and the
      view run synchronously, the response comes back. The chain is WEBHOOK_MIDDLEWARE: the project's, without
      what only a person's browser uses (sessions, sign-in, language, CSRF, messages); the same headers. Django's async handler
      hands off to a thread for each hook of each classic middleware (about 20 per request with this project's
      10 middlewares), for the request_started and request_finished signals, and starts a new thread per
      request for them (its ThreadSensitiveContext): most of a webhook's cost.
    - Those threads are a few long-lived ones (WEBHOOK_THREADS) that keep their database connection between
      requests: connecting to PostgreSQL costs about 5 ms, more than the webhook's own work. The standard
      handler runs each request in a thread of its own, which is why CONN_MAX_AGE stays 0 there. Connections
      are bounded: one per thread, checked before each request (`keep_working_connections`).
    - So request_started and request_finished are not sent for webhooks: their receivers are Django's
      connection housekeeping (which would close the kept connection: CONN_MAX_AGE is 0), replaced here by
      that check, and the debug query log.
    """

    def __init__(self):
        self.executor = ThreadPoolExecutor(max_workers=settings.WEBHOOK_THREADS, thread_name_prefix="webhooks")
        super().__init__()
        self._respond_in_thread = sync_to_async(self._respond, thread_sensitive=False, executor=self.executor)

    def load_middleware(self, is_async=False):
        # The synchronous chain, as a WSGI server would build it, of WEBHOOK_MIDDLEWARE (Django's loader reads
        # settings.MIDDLEWARE: pointed at the webhook chain while it runs, once, when the process starts).
        project_chain = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.WEBHOOK_MIDDLEWARE
        try:
            super().load_middleware(is_async=False)
        finally:
            settings.MIDDLEWARE = project_chain

    async def read_body(self, receive):
        """The body, but never more than WEBHOOK_MAX_BODY_BYTES + 1 bytes of it, in memory: the view answers 413 to
        anything longer (with the usual headers), so the rest is received and dropped instead of copied to a
        temporary file as Django's handler would. (Daphne itself holds a whole request before passing it on:
        the proxy in front should cap bodies too, docs/scaling.md.)"""
        keep = settings.WEBHOOK_MAX_BODY_BYTES + 1
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise RequestAborted()
            if len(body) < keep:
                body += message.get("body", b"")[: keep - len(body)]
            if not message.get("more_body", False):
                return io.BytesIO(body)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Webhooks are HTTP, not {scope['type']}.")
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            response = await self._respond_in_thread(scope, body_file)
        finally:
            body_file.close()
        await self.send_response(response, send)

    def _respond(self, scope, body_file):
        keep_working_connections()
        set_script_prefix(get_script_prefix(scope))
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            return error_response
        try:
            return self.get_response(request)  # the middleware chain, the view; 4xx/5xx logged as usual
        finally:
            request.close()  # what response.close() would do for a webhook, without request_finished


webhook_asgi_app = WebhookHandler()
daphne_requests.install()  # Daphne's requests skip Twisted's form parsing (config/daphne_requests.py)


async def http_app(scope, receive, send):
    app = webhook_asgi_app if scope["path"].startswith(WEBHOOK_PREFIX) else django_asgi_app
    await app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
get_resolver().url_patterns  # the URL conf (admin, API, views) loads now rather than on the first request
freeze_loaded_objects()  # the app is loaded: out of the collector's way (config/startup.py)
