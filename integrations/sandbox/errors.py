"""The platforms' error bodies, word for word where their docs give them (platforms.md §1.4, §2.4).

Views raise `GraphError` / `LineError`; `endpoint.platform_api` turns them into responses, so a view reads
as the happy path with its refusals listed in order.
"""
from http import HTTPStatus
from typing import Any

from django.http import JsonResponse

from integrations.sandbox import ids
from integrations.sandbox.models import Platform

LINE_AUTH_FAILED = (
    "Authentication failed due to the following reason: invalid token. "
    "Confirm that the access token in the authorization header is valid."
)
LINE_FAULT_MESSAGES = {
    HTTPStatus.BAD_REQUEST: "The request body has 1 error(s)",
    HTTPStatus.UNAUTHORIZED: LINE_AUTH_FAILED,
    HTTPStatus.FORBIDDEN: "Access to this API is not available for your account",
    HTTPStatus.NOT_FOUND: "Not found",
    HTTPStatus.TOO_MANY_REQUESTS: "The API rate limit has been exceeded. Try again later.",
    HTTPStatus.INTERNAL_SERVER_ERROR: "Internal server error",
}
# Graph answers with a code in the body; the HTTP status is whatever the fault asked for.
GRAPH_FAULT_ERRORS = {
    HTTPStatus.TOO_MANY_REQUESTS: (613, "Calls to this api have exceeded the rate limit."),
    HTTPStatus.INTERNAL_SERVER_ERROR: (2, "An unexpected error has occurred. Please retry your request later."),
    HTTPStatus.BAD_GATEWAY: (2, "An unexpected error has occurred. Please retry your request later."),
    HTTPStatus.SERVICE_UNAVAILABLE: (2, "An unexpected error has occurred. Please retry your request later."),
}
GRAPH_UNKNOWN_ERROR = (1, "An unknown error has occurred.")


class GraphError(Exception):
    """A Graph API refusal: `{"error": {message, type, code, error_subcode?, fbtrace_id}}`."""

    def __init__(
        self, message: str, code: int, subcode: int | None = None, *, status: int = 400, type_: str = "OAuthException"
    ):
        super().__init__(message)
        self.message, self.code, self.subcode, self.status, self.type = message, code, subcode, status, type_

    def response(self, headers: dict[str, str] | None = None) -> JsonResponse:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.code in (1, 2):
            error["is_transient"] = True
        error["fbtrace_id"] = ids.fbtrace_id()
        return JsonResponse({"error": error}, status=self.status, headers=headers)


class LineError(Exception):
    """A LINE API refusal: `{"message", "details"?: [{message, property}], ...}` plus optional headers."""

    def __init__(
        self,
        status: int,
        message: str,
        details: list[dict[str, str]] | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(message)
        self.status, self.message, self.details, self.headers, self.extra = status, message, details, headers, extra

    def response(self) -> JsonResponse:
        body: dict[str, Any] = {"message": self.message}
        if self.details:
            body["details"] = self.details
        body.update(self.extra)
        return JsonResponse(body, status=self.status, headers=self.headers)


def line_body_errors(details: list[dict[str, str]]) -> LineError:
    return LineError(400, f"The request body has {len(details)} error(s)", details)


def graph_invalid_token() -> GraphError:
    return GraphError("Invalid OAuth access token.", 190)


def graph_unknown_object(node: str, method: str) -> GraphError:
    return GraphError(
        f"Unsupported {method.lower()} request. Object with ID '{node}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation.",
        100,
        33,
        type_="GraphMethodException",
    )


def fault_response(platform: str, status: int, retry_after: int | None) -> JsonResponse:
    """The error a fault forces, in the platform's words; `Retry-After` when the fault sets one."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    if platform == Platform.LINE:
        message = LINE_FAULT_MESSAGES.get(status) or _phrase(status)
        return LineError(status, message, headers=headers).response()
    code, message = GRAPH_FAULT_ERRORS.get(status, GRAPH_UNKNOWN_ERROR)
    return GraphError(message, code, status=status).response(headers=headers)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
