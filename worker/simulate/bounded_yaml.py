"""Reading a hand-written YAML file with every cost bounded before it is paid.

Scenario files come from whoever writes tests, or from a downloaded example: YAML is a
language where a 1 KB file can expand to a billion nodes (aliases of aliases), nest deep
enough to overflow Python's recursion (PyYAML composes recursively), or hold bytes that are
not text. So, in this order, each step cheap and each refusal one `YamlLimitError` naming the
line:

1. the file is read up to `max_bytes` (never more), and must be UTF-8;
2. one streaming pass over PyYAML's parser events (iterative, no recursion) measures nesting
   depth and the node count *after* expanding aliases, refusing an alias to its own anchor;
3. only then are nodes composed and constructed, with every mapping remembering its line
   (`__line__`, and `__keys__` for the line of each key) so later validation errors can point
   at the right line; any failure inside a constructor (an int too long for Python, an
   impossible date, a key that is a list) becomes an error at its node's line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LINE_KEY = "__line__"
KEYS_KEY = "__keys__"


@dataclass(frozen=True)
class YamlLimits:
    max_bytes: int = 64 * 1024
    max_depth: int = 24
    max_nodes: int = 10_000
    """Nodes after expanding aliases: what construction and validation will walk."""


class YamlLimitError(ValueError):
    """A file that is not (bounded, valid) YAML; ``line`` is 1-based, or None when unknown."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def read_text(path: Path, limits: YamlLimits) -> str:
    """The file as text, reading at most ``limits.max_bytes + 1`` bytes."""
    with path.open("rb") as f:
        data = f.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise YamlLimitError(None, f"larger than {limits.max_bytes // 1024} KiB: not a scenario file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise YamlLimitError(line, f"not UTF-8 text (byte 0x{data[exc.start]:02x})") from None


def _line(mark: Any) -> int | None:
    return mark.line + 1 if mark is not None else None


def check_shape(text: str, limits: YamlLimits) -> None:
    """Depth and expanded size from parser events alone; raises before any node is built."""
    sizes: dict[str, int] = {}  # anchor -> expanded node count
    open_frames: list[list[Any]] = []  # [expanded count, anchor]
    expanded = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                open_frames.append([1, event.anchor])
                expanded += 1
                if len(open_frames) > limits.max_depth:
                    raise YamlLimitError(_line(event.start_mark), f"nested deeper than {limits.max_depth} levels")
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                size, anchor = open_frames.pop()
                if anchor is not None:
                    sizes[anchor] = size
                if open_frames:
                    open_frames[-1][0] += size
            elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                if isinstance(event, yaml.AliasEvent):
                    if any(frame[1] == event.anchor for frame in open_frames):
                        raise YamlLimitError(_line(event.start_mark), f"alias *{event.anchor} refers to itself")
                    size = sizes.get(event.anchor, 1)  # an unknown alias is the composer's error
                else:
                    size = 1
                    if event.anchor is not None:
                        sizes[event.anchor] = 1
                expanded += size
                if open_frames:
                    open_frames[-1][0] += size
            if expanded > limits.max_nodes:
                raise YamlLimitError(_line(event.start_mark),
                                     f"more than {limits.max_nodes} values once aliases are expanded")
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text) from None


def _yaml_error(exc: yaml.YAMLError, text: str) -> YamlLimitError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow (NUL, most controls)
        line = text.count("\n", 0, exc.position) + 1
        return YamlLimitError(line, f"not valid YAML (character {exc.character!r} is not allowed)")
    problem = getattr(exc, "problem", None) or str(exc)
    return YamlLimitError(_line(mark), f"not valid YAML ({problem})")


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings remember their line, and whose constructor errors have one."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
            raise yaml.constructor.ConstructorError(None, None, f"cannot read this value ({exc})",
                                                    node.start_mark) from None


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(None, None, "a key must be a plain word", key.start_mark)
    mapping = loader.construct_mapping(node, deep=True)
    mapping[LINE_KEY] = node.start_mark.line + 1
    # the line of each key, so an error in a scalar value (`flow: mortgage`) names its own line
    mapping[KEYS_KEY] = {loader.construct_object(k, deep=True): k.start_mark.line + 1 for k, _ in node.value}
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def load_with_lines(text: str, limits: YamlLimits) -> Any:
    """Parse ``text`` within ``limits``; mappings carry `__line__` and `__keys__`."""
    check_shape(text, limits)
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text) from None


def strip_lines(value: Any) -> Any:
    """The same value without the line bookkeeping."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k not in (LINE_KEY, KEYS_KEY)}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


def line_of(raw: Any, loc: tuple[Any, ...]) -> int | None:
    """The line of the value at ``loc`` (a pydantic error location) inside ``raw``."""
    line = raw.get(LINE_KEY) if isinstance(raw, dict) else None
    cur = raw
    for part in loc:
        keys = cur.get(KEYS_KEY) if isinstance(cur, dict) else None
        if isinstance(keys, dict) and part in keys:
            line = keys[part]
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(cur, dict) and LINE_KEY in cur:
            line = cur[LINE_KEY]
    return line
