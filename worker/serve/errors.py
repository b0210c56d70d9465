"""The API's one error shape, and the middleware that gives every failure that shape.

Every 4xx/5xx under /api/ is `{"error": {"code", "message"}}` (never HTML, never a traceback),
and every 4xx spends one token of the caller address's failure bucket: once an address has
failed too often its failing requests get 429 instead. Failures never block a request that
succeeds (a valid key behind a shared proxy address keeps working while someone guesses).
"""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from loguru import logger

from worker.serve.models import ErrorDetail, ErrorResponse
from worker.serve.ratelimit import TokenBucketLimiter

STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 408: "request_timeout", 413: "body_too_large",
                415: "unsupported_media_type", 429: "rate_limited"}

FAILURES_KEY = web.AppKey("auth_failures", TokenBucketLimiter)


class ApiError(Exception):
    """Raised by handlers; the middleware turns it into the JSON error envelope."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None,
                 *, close: bool = False) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})
        self.close = close
        """Close the connection after answering (the request body was not read to its end)."""


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    body = ErrorResponse(error=ErrorDetail(code=code, message=message))
    return web.json_response(body.model_dump(), status=status, headers={"Cache-Control": "no-store", **(headers or {})})


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.path in ("/api", "/healthz")


def where(exc: BaseException) -> str:
    """`file:line in function` of each frame, innermost last: where it broke, never what variables held."""
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    return " ← ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in reversed(frames))


@web.middleware
async def json_errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Turn every failure on the API into the JSON envelope, counting 4xx against the address."""
    try:
        return await handler(request)
    except ApiError as exc:
        error = exc
    except web.HTTPException as exc:
        if exc.status < 400 or not is_api(request):
            raise
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        error = ApiError(exc.status, STATUS_CODES.get(exc.status, "http_error"), exc.reason, allow)
    except Exception as exc:  # noqa: BLE001 - last resort: say what and where, never values, never to the caller
        logger.error("unhandled {} on {} {} at {}", type(exc).__name__, request.method, request.path, where(exc))
        return error_response(500, "internal", "Internal error; the server log has the details.")

    if 400 <= error.status < 500 and error.status != 429:
        client = request.remote or "unknown"
        if (wait := request.app[FAILURES_KEY].take(client)) is not None:
            error = ApiError(429, "rate_limited", "Too many failed requests from this address; retry later.",
                             {"Retry-After": str(wait)}, close=error.close)
    response = error_response(error.status, error.code, error.message, error.headers)
    if error.close:
        response.force_close()
    return response
