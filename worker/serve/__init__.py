"""The token backend (`mediabloom serve`): hands callers short-lived, one-room LiveKit tokens.

`app.py` (routes, checks order), `auth.py` (API key / signed requests), `tokens.py` (what a
caller token may do), `ratelimit.py`, `models.py` (request/response bodies).
"""

from worker.serve.app import create_app, running, serve_forever
from worker.serve.auth import sign_request

__all__ = ["create_app", "running", "serve_forever", "sign_request"]
