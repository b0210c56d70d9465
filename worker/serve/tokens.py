"""Mint one caller's LiveKit token: one room, short-lived, caller grants only, agent dispatched.

What the token allows is the whole security story of a caller, because LiveKit enforces it:

* `room_join` for exactly one room — the room is inside the signed token, so it cannot be
  pointed at another room without the API secret.
* publish the microphone only (`can_publish_sources=["microphone"]`) — no camera or screen, so
  a caller can't push video into a call that is meant to be voice.
* subscribe (hear the agent) and publish data (the widget sends messages to the agent).
* nothing administrative: no room_admin / room_create / room_list / room_record, not hidden,
  not an agent, cannot change its own metadata.
* no name that poses as the agent: identities `agent-*` or the agent's name, display names with
  the word "agent" in them ("Maya (agent)") or the agent's name (compared after Unicode
  normalisation, so full-width or zero-width tricks do not pass); control characters are
  stripped from display names when the request is parsed (`models.clean_display_name`).
* expires after `MB_TOKEN_TTL_SECONDS` (LiveKit checks expiry only when joining; it refreshes
  tokens of connected participants itself). Note: LiveKit accepts a token up to 60 s past its
  `exp` (clock-skew leeway in livekit/protocol), so the real join window is TTL + 60 s.

The agent is dispatched by the token's room configuration (`RoomAgentDispatch`): when the
caller joins, LiveKit creates the dispatch, so the agent arrives without a second API call and
without the browser being able to choose a different agent.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from livekit import api
from livekit.protocol.agent_dispatch import RoomAgentDispatch
from livekit.protocol.room import RoomConfiguration

from worker.serve.models import TokenRequest

CALLER_SOURCES = ["microphone"]
RESERVED_IDENTITY_PREFIX = "agent-"
"""livekit-agents joins as `agent-<job id>`; a caller using that prefix could impersonate it."""
RESERVED_NAME_WORD = "agent"
"""Participant UIs show the agent by its identity (`agent-…`); a caller's name saying "agent" mimics it."""


def _words(text: str) -> list[str]:
    """Letters-and-digits words of `text`, compatibility-normalised and case-folded."""
    return re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", text).casefold())


class RequestRefused(Exception):
    """The request is well-formed but asks for something callers may not have (403)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IssuedToken:
    jwt: str
    room: str
    identity: str
    ttl_seconds: int


@dataclass(frozen=True)
class TokenMinter:
    """Holds the deployment's LiveKit key pair and the rules every caller token follows."""

    api_key: str
    api_secret: str
    agent_name: str
    ttl_seconds: int

    def check(self, req: TokenRequest) -> None:
        """Refuse identities and names that would let a caller pass for the agent, and foreign agents."""
        identity = (req.participant_identity or "").lower()
        if identity and (identity.startswith(RESERVED_IDENTITY_PREFIX) or identity == self.agent_name.lower()):
            raise RequestRefused("reserved_identity", f"Participant identity {req.participant_identity!r} is reserved for the agent.")
        if req.participant_name and self._poses_as_agent(req.participant_name):
            raise RequestRefused("reserved_name", f"Participant name {req.participant_name!r} is reserved for the agent.")
        for dispatch in req.room_config.agents if req.room_config else []:
            if dispatch.agent_name not in (None, "", self.agent_name):
                raise RequestRefused("agent_not_allowed", f"Only the agent {self.agent_name!r} can be dispatched by this server.")

    def _poses_as_agent(self, name: str) -> bool:
        words = _words(name)
        agent = "".join(_words(self.agent_name))
        return RESERVED_NAME_WORD in words or (len(agent) >= 3 and agent in "".join(words))

    def mint(self, req: TokenRequest) -> IssuedToken:
        """Build and sign the token; room and identity are generated when the request has none."""
        self.check(req)
        room = req.room_name or f"call-{secrets.token_hex(6)}"
        identity = req.participant_identity or f"caller-{secrets.token_hex(6)}"
        agent_metadata = next((a.metadata for a in req.room_config.agents if a.metadata), None) if req.room_config else None
        grants = api.VideoGrants(
            room_join=True,
            room=room,
            can_publish=True,
            can_publish_sources=list(CALLER_SOURCES),
            can_subscribe=True,
            can_publish_data=True,
            can_update_own_metadata=False,
        )
        token = (
            api.AccessToken(self.api_key, self.api_secret)
            .with_identity(identity)
            .with_name(req.participant_name or identity)
            .with_kind("standard")
            .with_ttl(timedelta(seconds=self.ttl_seconds))
            .with_grants(grants)
            .with_room_config(
                RoomConfiguration(agents=[RoomAgentDispatch(agent_name=self.agent_name, metadata=agent_metadata or "")])
            )
        )
        if req.participant_metadata:
            token = token.with_metadata(req.participant_metadata)
        if req.participant_attributes:
            token = token.with_attributes(dict(req.participant_attributes))
        return IssuedToken(token.to_jwt(), room, identity, self.ttl_seconds)
