"""Reading and parsing a token request's body, with every bound an attacker would probe.

Size (the app's `client_max_size`), time (a body trickled in one byte every few seconds would
hold its connection for hours), a client hanging up halfway (that is the client's business,
not an error of ours), nesting depth (`[` × 8000 makes Python's json module raise
RecursionError) and text that is not Unicode (lone surrogates via `\\ud800` escapes).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from loguru import logger

from worker.serve.errors import ApiError

MAX_BODY_BYTES = 16 * 1024
"""A token request is a few hundred bytes; anything near this is not a token request."""
MAX_JSON_DEPTH = 8
"""The deepest legitimate request is 4 levels (body → room_config → agents → one agent)."""

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


async def read_body(request: web.Request, timeout: float) -> bytes:
    """The whole body within `timeout` seconds, or the 4xx that says why not."""
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise ApiError(408, "request_timeout", f"The request body did not arrive within {timeout:g} s.",
                       close=True) from None
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "body_too_large", f"The request body is larger than {MAX_BODY_BYTES} bytes.",
                       close=True) from None
    except ConnectionError:
        logger.info("client {} hung up before sending the whole body", request.remote)
        raise ApiError(400, "incomplete_body", "The connection closed before the whole body arrived.",
                       close=True) from None
    except HttpProcessingError:
        raise ApiError(400, "invalid_body", "The request body is not well-formed HTTP (length or chunking).",
                       close=True) from None


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays/objects in `body`, brackets inside strings ignored (no recursion)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRINGS.sub(b'""', body)):
        depth += 1 if match.group() in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object (empty body: `{}`), or a 400 ApiError naming what is wrong."""
    if not body.strip():
        return {}
    if json_depth(body) > MAX_JSON_DEPTH:
        raise ApiError(400, "invalid_json", f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")
    try:
        payload = json.loads(body)
        json.dumps(payload, ensure_ascii=False).encode("utf-8")  # lone surrogates (\ud800) are not text
    except (ValueError, UnicodeError, RecursionError):
        raise ApiError(400, "invalid_json", "The request body is not valid JSON (UTF-8 text).") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_request", "The request body must be a JSON object.")
    return payload
