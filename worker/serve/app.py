"""The token backend's aiohttp app: POST /api/token, GET /healthz, and the widget's static files.

A browser widget (or any LiveKit client `TokenSource` of the endpoint kind) gets its room
token here, via the deployment's backend which holds the API key or signing secret. The order
of checks in `issue_token` is deliberate: rate limit first (cheap, bounds key guessing),
authentication before the body is even parsed (strangers learn nothing about our validation),
then validation and the caller rules, then minting.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web
from loguru import logger
from pydantic import ValidationError

from worker.serve.auth import Authenticator, AuthError, credential_fingerprint
from worker.serve.models import ErrorDetail, ErrorResponse, TokenRequest, TokenResponse
from worker.serve.ratelimit import TokenBucketLimiter
from worker.serve.tokens import RequestRefused, TokenMinter
from worker.serve.widget_config import WidgetConfig, add_widget_config
from worker.settings import ConfigError, Settings

MAX_BODY_BYTES = 16 * 1024
"""A token request is a few hundred bytes; anything near this is not a token request."""

_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 413: "body_too_large", 415: "unsupported_media_type",
                 429: "rate_limited"}

MINTER_KEY = web.AppKey("minter", TokenMinter)
AUTH_KEY = web.AppKey("authenticator", Authenticator)
LIMITER_KEY = web.AppKey("limiter", TokenBucketLimiter)
FAILURES_KEY = web.AppKey("auth_failures", TokenBucketLimiter)
SERVER_URL_KEY = web.AppKey("server_url", str)


class ApiError(Exception):
    """Raised by handlers; the middleware turns it into the JSON error envelope."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    body = ErrorResponse(error=ErrorDetail(code=code, message=message))
    return web.json_response(body.model_dump(), status=status, headers={"Cache-Control": "no-store", **(headers or {})})


@web.middleware
async def json_errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """API errors always come back as `{"error": {"code", "message"}}`, never as HTML or a traceback."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400 or not (request.path.startswith("/api/") or request.path == "/healthz"):
            raise
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return error_response(exc.status, _STATUS_CODES.get(exc.status, "http_error"), exc.reason, allow)
    except Exception:  # noqa: BLE001 - last resort: log it, never leak a traceback to the caller
        logger.exception("unhandled error on {} {}", request.method, request.path)
        return error_response(500, "internal", "Internal error; the server log has the details.")


async def healthz(_: web.Request) -> web.Response:
    """Liveness for load balancers and the tests; reveals nothing about configuration."""
    return web.json_response({"status": "ok"})


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return "Invalid token request: " + "; ".join(parts)


async def issue_token(request: web.Request) -> web.Response:
    """POST /api/token: LiveKit's standard token endpoint, for authenticated backends only."""
    app = request.app
    client = request.remote or "unknown"
    if (wait := app[FAILURES_KEY].blocked(client)) is not None:
        raise ApiError(429, "rate_limited", "Too many failed authentication attempts; retry later.", {"Retry-After": str(wait)})
    if (wait := app[LIMITER_KEY].take(f"{client}|{credential_fingerprint(request.headers)}")) is not None:
        raise ApiError(429, "rate_limited", "Too many token requests; retry later.", {"Retry-After": str(wait)})

    body = await request.read()
    try:
        caller = app[AUTH_KEY].authenticate(request.headers, body)
    except AuthError as exc:
        app[FAILURES_KEY].take(client)
        logger.warning("token request refused from {}: {}", client, exc.code)
        raise ApiError(401, exc.code, exc.message, {"WWW-Authenticate": 'Bearer realm="mediabloom"'}) from None

    if body.strip() and request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the token request as application/json.")
    try:
        payload = json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_request", "The request body must be a JSON object.")
    try:
        token_request = TokenRequest.model_validate(payload)
    except ValidationError as exc:
        raise ApiError(400, "invalid_request", _validation_message(exc)) from None

    try:
        issued = app[MINTER_KEY].mint(token_request)
    except RequestRefused as exc:
        raise ApiError(403, exc.code, exc.message) from None
    logger.info("token issued: room={} identity={} via={} ttl={}s", issued.room, issued.identity, caller.method, issued.ttl_seconds)
    response = TokenResponse(server_url=app[SERVER_URL_KEY], participant_token=issued.jwt)
    return web.json_response(response.model_dump(), status=201, headers={"Cache-Control": "no-store"})


def create_app(settings: Settings, *, frontend_dir: Path | None = None) -> web.Application:
    """Build the app from settings; raises ConfigError (one sentence) when it cannot run safely."""
    if not settings.livekit_api_key or not settings.livekit_api_secret:
        raise ConfigError("mediabloom serve needs LIVEKIT_API_KEY and LIVEKIT_API_SECRET (the LiveKit server's key pair; "
                          "livekit.yaml uses devkey / secret) in .env or the environment.")
    if not settings.token_api_key and not settings.token_signing_secret:
        raise ConfigError("mediabloom serve needs MB_TOKEN_API_KEY or MB_TOKEN_SIGNING_SECRET so that only your "
                          "backend can request caller tokens.")
    app = web.Application(middlewares=[json_errors], client_max_size=MAX_BODY_BYTES)
    app[MINTER_KEY] = TokenMinter(settings.livekit_api_key, settings.livekit_api_secret.get_secret_value(),
                                  settings.agent_name, settings.token_ttl_seconds)
    app[AUTH_KEY] = Authenticator(settings.token_api_key, settings.token_signing_secret)
    rate = settings.token_rate_per_minute / 60.0
    app[LIMITER_KEY] = TokenBucketLimiter(settings.token_rate_burst, rate)
    app[FAILURES_KEY] = TokenBucketLimiter(settings.token_rate_burst, rate)
    app[SERVER_URL_KEY] = settings.livekit_url
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/api/token", issue_token)
    add_widget_config(app, WidgetConfig(transport="livekit", token_endpoint="/api/token", agent_name=settings.agent_name))

    frontend = frontend_dir if frontend_dir is not None else settings.frontend_dir
    index = frontend / "index.html"
    if index.is_file():
        async def index_page(_: web.Request) -> web.FileResponse:
            return web.FileResponse(index)

        app.router.add_get("/", index_page)
        app.router.add_static("/", frontend, show_index=False, follow_symlinks=False)
    return app


@asynccontextmanager
async def running(app: web.Application, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve `app` on a real socket inside the current event loop; yields its base URL (tests use it)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port = runner.addresses[0][1]
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        await runner.cleanup()


def serve_forever(settings: Settings, host: str, port: int, app: web.Application | None = None) -> None:
    """`mediabloom serve`: run until SIGINT/SIGTERM (aiohttp closes connections gracefully)."""
    app = create_app(settings) if app is None else app
    methods = [m for m, on in (("api key", settings.token_api_key), ("signed requests", settings.token_signing_secret)) if on]
    logger.info("token backend on http://{}:{} — LiveKit {} · agent {!r} · ttl {}s · auth: {}", host, port,
                settings.livekit_url, settings.agent_name, settings.token_ttl_seconds, ", ".join(methods))
    if host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("serving on {} — put TLS in front of it; tokens and keys travel in these requests", host)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
