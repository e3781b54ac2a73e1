"""What every fake platform endpoint does around its own logic: faults, error rendering, the call log."""
import functools
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from integrations.sandbox import ids
from integrations.sandbox.errors import GraphError, LineError, fault_response
from integrations.sandbox.models import Platform, SandboxCall, SandboxFault

RECORDED_HEADERS = ("Content-Type", "X-Line-Retry-Key")


@dataclass
class CallContext:
    """Filled in by the view as it learns things the call log keeps (`request.sandbox`)."""

    request_id: str  # LINE's X-Line-Request-Id, known before the view runs (retry keys store it)
    channel_key: str = ""
    billed: int = 0


def platform_api(platform: str, endpoint: str, methods: tuple[str, ...]) -> Callable:
    """Wrap a fake API view: csrf-exempt, faults first, typed errors rendered, every call recorded."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            request.sandbox = CallContext(request_id=ids.line_request_id())
            raw_body = request.body  # read first: once a form is parsed the raw stream is gone
            response = _respond(platform, endpoint, methods, view, request, raw_body, *args, **kwargs)
            if platform == Platform.LINE:
                response["X-Line-Request-Id"] = request.sandbox.request_id
            _record(request, _without_nul(raw_body), platform, endpoint, response)
            return response

        return wrapper

    return decorate


def _respond(platform, endpoint, methods, view, request, raw_body, *args, **kwargs) -> HttpResponse:
    if _has_nul(request, raw_body):
        return _unreadable(platform)
    try:
        if request.method not in methods:
            raise _method_not_allowed(platform, request.method)
        fault = triggered_fault(platform, endpoint)
        if fault is not None:
            time.sleep(fault.latency_ms / 1000)
            if fault.status:
                return fault_response(platform, fault.status, fault.retry_after)
        return view(request, *args, **kwargs)
    except GraphError as error:
        return error.response()
    except LineError as error:
        return error.response()


def _has_nul(request: HttpRequest, raw_body: bytes) -> bool:
    """NUL characters can't be stored (PostgreSQL refuses them in text and jsonb): such a call is refused
    whole, before anything is looked up or recorded with it."""
    return (
        "\x00" in request.path
        or "%00" in request.META.get("QUERY_STRING", "")
        or b"\x00" in raw_body
        or b"\\u0000" in raw_body
    )


def _without_nul(raw_body: bytes) -> bytes:
    return raw_body.replace(b"\x00", b"").replace(b"\\u0000", b"")


def _unreadable(platform: str) -> HttpResponse:
    if platform == Platform.LINE:
        return LineError(400, "The request body could not be parsed as JSON (line: 1, column: 1)").response()
    return GraphError("(#100) Invalid parameter", 100).response()


def _method_not_allowed(platform: str, method: str) -> Exception:
    if platform == Platform.LINE:
        return LineError(405, "Method Not Allowed")
    return GraphError(f"Unsupported {method.lower()} request.", 100, status=400, type_="GraphMethodException")


def triggered_fault(platform: str, endpoint: str) -> SandboxFault | None:
    """The first fault that fires for this call, its `remaining` count taken atomically."""
    active = SandboxFault.objects.filter(platform=platform, endpoint__in=("", endpoint)).filter(
        Q(remaining__isnull=True) | Q(remaining__gt=0)
    )
    for fault in active:
        if fault.error_rate is not None and random.random() >= fault.error_rate:
            continue
        if fault.remaining is None or _consume(fault):
            return fault
    return None


def _consume(fault: SandboxFault) -> bool:
    return SandboxFault.objects.filter(pk=fault.pk, remaining__gt=0).update(remaining=F("remaining") - 1) == 1


def _record(request: HttpRequest, raw_body: bytes, platform: str, endpoint: str, response: HttpResponse) -> None:
    SandboxCall.objects.create(
        platform=platform,
        endpoint=endpoint,
        channel_key=request.sandbox.channel_key,
        method=request.method,
        path=request.get_full_path()[:1000],
        headers={name: request.headers[name] for name in RECORDED_HEADERS if name in request.headers},
        body=_recorded_body(raw_body),
        status=response.status_code,
        response=_recorded_body(response.content) if response["Content-Type"].startswith("application/json") else None,
        billed=request.sandbox.billed,
    )


def _recorded_body(raw: bytes) -> Any:
    """Parsed JSON when it parses, else the text as received (bad bodies are worth seeing in the log)."""
    if not raw:
        return None
    try:
        return loads_json(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object; ValueError (with line/column when known) if it is not one."""
    data = loads_json(raw)
    if not isinstance(data, dict):
        raise ValueError("the request body is not a JSON object")
    return data


def loads_json(raw: bytes) -> Any:
    """Strict JSON: no NaN/Infinity (jsonb can't store them) and absurd nesting is a ValueError, not a crash."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("the request body is nested too deeply") from None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is out of range")
    return value
