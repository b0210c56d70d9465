"""The token backend (`mediabloom serve`): hands callers short-lived, one-room LiveKit tokens.

`app.py` (routes, checks order), `auth.py` (API key / signed requests), `replay.py` (signatures
already used, on disk), `body.py` (reading and parsing a body, bounded), `errors.py` (the JSON
error envelope, failures counted per address), `tokens.py` (what a caller token may do),
`ratelimit.py`, `models.py` (request/response bodies), `server.py` (the socket, the per-address
connection cap, signals).
"""

from worker.serve.app import create_app
from worker.serve.auth import sign_request
from worker.serve.server import running, serve_forever

__all__ = ["create_app", "running", "serve_forever", "sign_request"]
