"""Paths into a tool call, as flows write them in `records:` (`result.listings[].listing_id`).

Apart from the engine so the machine stays about events and states; pure like it.
"""

from __future__ import annotations

from typing import Any


def lookup(root: dict[str, Any], path: str) -> Any:
    """Resolve `result.listings[].listing_id` style paths; missing pieces give None."""
    cur: Any = root
    parts = path.split(".")
    for i, part in enumerate(parts):
        if part.endswith("[]"):
            items = cur.get(part[:-2]) if isinstance(cur, dict) else None
            if not isinstance(items, list):
                return None
            rest = ".".join(parts[i + 1:])
            return [lookup(x, rest) if rest else x for x in items]
        cur = cur.get(part) if isinstance(cur, dict) else None
        if cur is None:
            return None
    return cur
