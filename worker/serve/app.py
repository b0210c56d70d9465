"""The token backend's aiohttp app: POST /api/token, GET /healthz, and the widget's static files.

A browser widget (or any LiveKit client `TokenSource` of the endpoint kind) gets its room
token here, via the deployment's backend which holds the API key or signing secret. The order
of checks in `issue_token` is deliberate: the body is read first (bounded in size and time:
a signature covers it), then authentication (strangers learn nothing about our validation),
then validation and the caller rules, then the credential's rate limit (keyed by the
credential proved, so re-spelling a header does not reset it; spent only by requests that
would get a token), then minting. Every failure is a 4xx JSON error that spends the address's
failure bucket instead (`errors.json_errors`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import HttpVersion11, web
from loguru import logger
from pydantic import ValidationError

from worker.serve.auth import Authenticator, AuthError
from worker.serve.body import MAX_BODY_BYTES, parse_json_object, read_body
from worker.serve.errors import FAILURES_KEY, ApiError, error_response, json_errors
from worker.serve.models import TokenRequest, TokenResponse
from worker.serve.ratelimit import TokenBucketLimiter
from worker.serve.replay import FILE_NAME as REPLAY_FILE
from worker.serve.replay import ReplayCache
from worker.serve.server import MAX_CONNECTIONS_KEY
from worker.serve.tokens import RequestRefused, TokenMinter
from worker.serve.widget_config import CONFIG_PATH, WidgetConfig, add_widget_config
from worker.settings import ConfigError, Settings

MINTER_KEY = web.AppKey("minter", TokenMinter)
AUTH_KEY = web.AppKey("authenticator", Authenticator)
LIMITER_KEY = web.AppKey("limiter", TokenBucketLimiter)
SERVER_URL_KEY = web.AppKey("server_url", str)
BODY_TIMEOUT_KEY = web.AppKey("body_timeout", float)


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
    body = await read_body(request, app[BODY_TIMEOUT_KEY])
    try:
        caller = app[AUTH_KEY].authenticate(request.headers, body)
    except AuthError as exc:
        logger.warning("token request refused from {}: {}", request.remote, exc.code)
        raise ApiError(401, exc.code, exc.message, {"WWW-Authenticate": 'Bearer realm="mediabloom"'}) from None
    if body.strip() and request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the token request as application/json.")
    payload = parse_json_object(body)
    try:
        token_request = TokenRequest.model_validate(payload)
    except ValidationError as exc:
        raise ApiError(400, "invalid_request", _validation_message(exc)) from None

    try:
        app[MINTER_KEY].check(token_request)
    except RequestRefused as exc:
        raise ApiError(403, exc.code, exc.message) from None
    if (wait := app[LIMITER_KEY].take(caller.credential)) is not None:
        raise ApiError(429, "rate_limited", "Too many token requests; retry later.", {"Retry-After": str(wait)})
    issued = app[MINTER_KEY].mint(token_request)
    logger.info("token issued: room={} identity={} via={} ttl={}s", issued.room, issued.identity, caller.method, issued.ttl_seconds)
    response = TokenResponse(server_url=app[SERVER_URL_KEY], participant_token=issued.jwt)
    return web.json_response(response.model_dump(), status=201, headers={"Cache-Control": "no-store"})


def method_not_allowed(*allowed: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Any other method on an API path (a GET of /api/token from a browser, say): 405 JSON, widget or not."""
    async def refuse(request: web.Request) -> web.StreamResponse:
        raise web.HTTPMethodNotAllowed(request.method, list(allowed))

    return refuse


async def expect_continue(request: web.Request) -> web.StreamResponse | None:
    """`Expect: 100-continue` as aiohttp does it; any other value a 417 (aiohttp's own handler
    crashes with a 500 on a non-UTF-8 value, outside every middleware, so every route uses this one)."""
    if request.version == HttpVersion11 and request.headers.get("Expect", "").strip().lower() == "100-continue":
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return None
    return error_response(417, "expectation_failed", "Only 'Expect: 100-continue' is supported.")


async def not_found(request: web.Request) -> web.StreamResponse:
    """Whatever no route serves (JSON under /api/, aiohttp's plain 404 elsewhere)."""
    raise web.HTTPNotFound()


def _replay_cache(settings: Settings) -> ReplayCache:
    return ReplayCache(settings.prepared_data_dir() / REPLAY_FILE)


def create_app(settings: Settings, *, frontend_dir: Path | None = None) -> web.Application:
    """Build the app from settings; raises ConfigError (one sentence) when it cannot run safely."""
    if not settings.livekit_api_key or not settings.livekit_api_secret:
        raise ConfigError("mediabloom serve needs LIVEKIT_API_KEY and LIVEKIT_API_SECRET (the LiveKit server's key pair; "
                          "livekit.yaml uses devkey / secret) in .env or the environment.")
    if not settings.token_api_key and not settings.token_signing_secret:
        raise ConfigError("mediabloom serve needs MB_TOKEN_API_KEY or MB_TOKEN_SIGNING_SECRET so that only your "
                          "backend can request caller tokens.")
    replays = _replay_cache(settings) if settings.token_signing_secret else None
    app = web.Application(middlewares=[json_errors], client_max_size=MAX_BODY_BYTES)
    app[MINTER_KEY] = TokenMinter(settings.livekit_api_key, settings.livekit_api_secret.get_secret_value(),
                                  settings.agent_name, settings.token_ttl_seconds)
    app[AUTH_KEY] = Authenticator(settings.token_api_key, settings.token_signing_secret, replays)
    rate = settings.token_rate_per_minute / 60.0
    app[LIMITER_KEY] = TokenBucketLimiter(settings.token_rate_burst, rate)
    app[FAILURES_KEY] = TokenBucketLimiter(settings.token_rate_burst, rate)
    app[SERVER_URL_KEY] = settings.livekit_url
    app[BODY_TIMEOUT_KEY] = settings.token_body_timeout_seconds
    app[MAX_CONNECTIONS_KEY] = settings.token_max_connections_per_address
    if replays is not None:
        async def close_replays(_: web.Application) -> None:
            replays.close()

        app.on_cleanup.append(close_replays)
    routes = app.router
    routes.add_get("/healthz", healthz, expect_handler=expect_continue)
    routes.add_post("/api/token", issue_token, expect_handler=expect_continue)
    routes.add_route("*", "/api/token", method_not_allowed("POST"), expect_handler=expect_continue)
    add_widget_config(app, WidgetConfig(transport="livekit", token_endpoint="/api/token", agent_name=settings.agent_name),
                      expect_handler=expect_continue)
    routes.add_route("*", CONFIG_PATH, method_not_allowed("GET"), expect_handler=expect_continue)
    routes.add_route("*", "/api{tail:(/.*)?}", not_found, expect_handler=expect_continue)  # never the widget's files

    frontend = frontend_dir if frontend_dir is not None else settings.frontend_dir
    index = frontend / "index.html"
    if index.is_file():
        async def index_page(_: web.Request) -> web.FileResponse:
            return web.FileResponse(index)

        routes.add_get("/", index_page, expect_handler=expect_continue)
        routes.add_static("/", frontend, show_index=False, follow_symlinks=False, expect_handler=expect_continue)
    routes.add_route("*", "/{tail:.*}", not_found, expect_handler=expect_continue)
    return app
