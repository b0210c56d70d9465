"""Scenario files: a scripted caller for a simulated call, with expectations.

A scenario is YAML (format in the README). Each caller line is spoken text (voiced by the
offline TTS) or a WAV file, timed either after the agent stops speaking or as a barge-in into
the agent's next reply. A bad file stops with one clear error that names the line.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ScenarioError(ValueError):
    """A scenario file that cannot be run; the message names the file and line."""


class ToolExpectation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    """Arguments that must match (a subset of the call's arguments)."""
    ok: bool = True
    count: int | None = None
    """Exact number of successful calls, when given."""


class Expectations(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tools: list[ToolExpectation] = Field(default_factory=list)
    state: str | None = None
    ended: bool | None = None
    effects: dict[Literal["bookings", "charges", "cases", "opportunities"], int] = Field(default_factory=dict)
    rejections: int | None = None
    interrupted: bool | None = None
    """For a line: the agent reply it barged into was cut off."""


class CallerLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    say: str | None = None
    wav: Path | None = None
    silence: float | None = None
    """Say nothing for this many seconds (tests silence handling)."""
    after_agent: float | None = None
    barge_in: float | None = None
    expect: Expectations | None = None
    line: int = 0

    @model_validator(mode="after")
    def _one_of(self) -> "CallerLine":
        given = [k for k in ("say", "wav", "silence") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("each caller line needs exactly one of `say`, `wav` or `silence`")
        if self.after_agent is not None and self.barge_in is not None:
            raise ValueError("use either `after_agent` or `barge_in`, not both")
        if self.after_agent is None and self.barge_in is None:
            self.after_agent = 0.6
        return self


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    flow: Literal["real_estate", "insurance"]
    today: date | None = None
    description: str = ""
    caller: list[CallerLine]
    expect: Expectations = Field(default_factory=Expectations)
    max_seconds: float = 240.0
    path: Path | None = None


class _LineLoader(yaml.SafeLoader):
    pass


def _mapping_with_line(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    # the line of each key, so an error in a scalar value (`flow: mortgage`) names its own line
    mapping["__keys__"] = {loader.construct_object(k, deep=True): k.start_mark.line + 1 for k, _ in node.value}
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def _strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k not in ("__line__", "__keys__")}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


def _line_of(raw: Any, loc: tuple[Any, ...]) -> int | None:
    line = raw.get("__line__") if isinstance(raw, dict) else None
    cur = raw
    for part in loc:
        keys = cur.get("__keys__") if isinstance(cur, dict) else None
        if isinstance(keys, dict) and part in keys:
            line = keys[part]
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(cur, dict) and "__line__" in cur:
            line = cur["__line__"]
    return line


def load_scenario(path: Path) -> Scenario:
    """Parse and validate a scenario file; WAV paths resolve relative to the file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the scenario ({exc.strerror})") from None
    try:
        raw = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "somewhere"
        raise ScenarioError(f"{path}, {where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}, line 1: a scenario is a mapping with `name`, `flow` and `caller`")
    lines = raw.get("caller")
    if isinstance(lines, list):
        for entry in lines:
            if isinstance(entry, dict):
                entry["line"] = entry.get("__line__", 0)
    try:
        scenario = Scenario.model_validate({**_strip_lines(raw), "path": path})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not isinstance(p, str) or not p.startswith("function-"))
        line = _line_of(raw, loc) or 1
        field = ".".join(str(p) for p in loc) or "scenario"
        raise ScenarioError(f"{path}, line {line}: {field}: {err['msg']}") from None
    for entry in scenario.caller:
        if entry.wav is not None:
            wav = entry.wav if entry.wav.is_absolute() else path.parent / entry.wav
            if not wav.exists():
                raise ScenarioError(f"{path}, line {entry.line}: wav file {entry.wav} does not exist")
            entry.wav = wav
    return scenario
