"""The planner's inputs and outputs: the conversation as items, and the plan it answers with.

Plain frozen records shared by the decisions (`policy`, `repair`) and the livekit seam (`llm`),
kept apart so each of those stays small. A call id is derived from the conversation so far and
the call itself, so replanning the same conversation proposes the same call (replay, dedupe).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AgentSaid", "Called", "Item", "Output", "Plan", "ToolCall", "UserSaid", "call_id"]


@dataclass(frozen=True)
class UserSaid:
    text: str


@dataclass(frozen=True)
class AgentSaid:
    text: str
    interrupted: bool = False
    """The caller cut in: `text` is only what was heard before that."""


@dataclass(frozen=True)
class Called:
    call_id: str
    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Output:
    call_id: str
    name: str
    output: str
    is_error: bool


Item = UserSaid | AgentSaid | Called | Output


@dataclass
class ToolCall:
    name: str
    args: dict[str, Any]
    call_id: str


@dataclass
class Plan:
    """What the planner says and which tools it asks to run (both may be present)."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)


def call_id(items: list[Item], name: str, args: dict[str, Any]) -> str:
    seed = json.dumps([len(items), name, args], sort_keys=True, default=str)
    return "call_" + hashlib.sha1(seed.encode()).hexdigest()[:12]
