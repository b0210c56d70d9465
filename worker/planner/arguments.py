"""The arguments of the tool a state wants, from what the caller said and the slots known.

Split from the planner's decisions (`policy.py`): choosing which listing or which free slot the
caller meant, and which fact to take from which turn, is reading, not deciding what to do next.
`build_args` also names the first argument still missing, so the planner can ask for it.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from worker.planner import card_groups, replies
from worker.reading.turn import read_turn

if TYPE_CHECKING:
    from worker.planner.policy import Conversation

__all__ = ["build_args"]


def _pick_listing(conv: Conversation) -> str | None:
    """The listing the caller chose: by id, by street, or by position in the offer."""
    listings = conv.slots.get("listings") or []
    if conv.slots.get("listing_id"):
        chosen = conv.slots["listing_id"]
    else:
        chosen = None
    for text in reversed(conv.user_texts):
        low = text.lower()
        for lst in listings:
            street = str(lst.get("address", "")).lower().split(",")[0]
            words = [w for w in street.split() if not w.isdigit() and len(w) > 2]
            if lst.get("listing_id", "").lower() in low or (words and words[0] in low):
                return lst["listing_id"]
        s = read_turn(text, conv.today).slots()
        if s.ordinal_choice is not None and listings:
            idx = s.ordinal_choice if s.ordinal_choice >= 0 else len(listings) + s.ordinal_choice
            idx = idx - 1 if s.ordinal_choice > 0 else idx
            if 0 <= idx < len(listings):
                return listings[idx]["listing_id"]
        if chosen:
            break
    return chosen


def _pick_slot(conv: Conversation) -> str | None:
    """A free slot on the chosen day at the time the caller asked for, if any."""
    free: list[str] = conv.slots.get("free_slots") or []
    said = conv.last_agent_text()
    confirm = str(conv.d.get("confirm") or "")
    # "yes" to the next free time we offered after theirs was taken, or to the one time left in
    # the part of the day the caller named, put as the booking's question (`narrowing`)
    offered = next((iso for iso in free if replies.next_free([iso], "") in said
                    or confirm and replies.fill(confirm, conv.slots, {"slot_start": iso}) in said), None)
    if offered and conv.latest().affirmation is True and conv.latest().time is None:
        return offered
    wanted: time | None = conv.recall("time")
    if wanted is None:
        return None
    for iso in free:
        if datetime.fromisoformat(iso).time().replace(second=0) == wanted.replace(second=0):
            return iso
    return None


def build_args(tool: str, conv: Conversation) -> tuple[dict[str, Any], str | None]:
    """Arguments for `tool` from what is known; else the name of the first missing one."""
    s = conv.slots
    if tool == "find_listings":
        args = {"area": s.get("area"), "max_price": s.get("budget")}
        if s.get("bedrooms"):
            args["bedrooms"] = s["bedrooms"]
    elif tool == "check_availability":
        listing = _pick_listing(conv)
        day = conv.recall("date")
        args = {"listing_id": listing, "date": day.isoformat() if day else None}
    elif tool == "book_tour":
        args = {"listing_id": s.get("listing_id"), "slot_start": _pick_slot(conv),
                "name": s.get("name"), "phone": s.get("phone")}
    elif tool == "update_opportunity":
        args = {"phone": s.get("phone"), "name": s.get("name"), "stage": "tour_booked",
                "listing_id": s.get("listing_id"),
                "note": f"Tour {s.get('booking_id')} booked for {s.get('tour_start')}"}
    elif tool == "verify_identity":
        dob = conv.recall("date_of_birth")
        args = {"policy_number": conv.recall("policy_number"),
                "date_of_birth": dob.isoformat() if dob else None}
    elif tool == "get_renewal_quote":
        args = {"policy_number": s.get("policy_number")}
    elif tool == "charge_card":
        args = {"policy_number": s.get("policy_number"), "amount_cents": s.get("quote_amount_cents"),
                "card_number": card_groups.card_number(conv)}
    else:
        return {}, None
    missing = next((k for k, v in args.items() if v in (None, "")), None)
    return args, missing
