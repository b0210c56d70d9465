"""A caller who changes what she is looking for mid-call ("actually, can you look in Berkeley
instead?", often said over the listing read-out): search again on the new terms.

The flow allows `find_listings` again once listings were read (state `choose`), but the state's
next step is picking one of them, so without this the planner would save the new area and then
ask "Which of those homes would you like to see?" about homes in the old one.
"""

from __future__ import annotations

from typing import Any

from worker.planner.plans import Called, Item

__all__ = ["search_again"]

_TERMS = ("area", "max_price", "bedrooms")


def search_again(slots: dict[str, Any], items: list[Item], allowed: set[str]) -> dict[str, Any] | None:
    """The `find_listings` arguments for the caller's current terms, when the last search ran on
    other ones (None: no search yet, none allowed, or the last one already matches)."""
    if "find_listings" not in allowed:
        return None
    last = next((it for it in reversed(items) if isinstance(it, Called) and it.name == "find_listings"), None)
    if last is None:
        return None
    want: dict[str, Any] = {"area": slots.get("area"), "max_price": slots.get("budget")}
    if slots.get("bedrooms"):
        want["bedrooms"] = slots["bedrooms"]
    if any(v in (None, "") for v in want.values()):
        return None
    same = all(str(want.get(k) or "").lower() == str(last.args.get(k) or "").lower() for k in _TERMS)
    return None if same else want
