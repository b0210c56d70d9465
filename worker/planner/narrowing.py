"""The offer narrowed to the part of the day the caller named, instead of "didn't get that".

A caller who picks from "10 AM, 11 AM, 12 PM and 2 PM" and is misheard says it again in other
words ("Eleven in the morning, please."); when the recogniser keeps only "In the morning,
please." the answer still says something: a human agent narrows the offer ("In the morning I
have 10 AM and 11 AM. Which time works for you?") rather than apologising (bench robustness:
three apologies for "morning" ended a real-estate call in a callback). One time left in that
part is put as the booking's own yes/no question, so a "yes" books it (`arguments._pick_slot`
takes the time the question proposed). No free time in that part: say so, and offer the rest.
A turn that names the part with a new day ("Saturday morning instead?") gets that day's times
narrowed at once, when the lookup comes back.

The narrowed question is progress, not a repeat: `repair.texts_without_progress` restarts its
count at it, and it is said at most once per offer (the same part said again is no news and
takes the normal "didn't get that" path, which counts toward another way and the callback).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from worker.planner import replies
from worker.planner.plans import Plan
from worker.planner.repair import said_since_a_tool
from worker.reading.times import in_part_of_day, part_of_day

if TYPE_CHECKING:
    from worker.planner.policy import Conversation

__all__ = ["narrow_offer", "unfree_time"]


def narrow_offer(conv: Conversation, day: str = "") -> Plan | None:
    """The narrowed offer when the caller, asked for a time among the free ones, named a part of
    the day and no clock time; None otherwise. With `day` (spoken), the day's times were just
    looked up for a turn that named the part too ("Saturday morning instead?"): the first offer
    of that day is the narrowed one."""
    free = _choosing_a_time(conv)
    if not free:
        return None
    latest = conv.latest()
    if latest.time is not None or latest.affirmation is True and replies.is_yes_no(conv.last_agent_text()):
        return None  # "Yes, the morning is perfect." to "Shall I book ... at 11 AM ...?" books it
    part = part_of_day(conv.reading().words.said)
    if part is None:
        return None
    within = [iso for iso in free if in_part_of_day(datetime.fromisoformat(iso).time(), part)]
    times = within or free
    confirm = str(conv.d.get("confirm") or "")
    proposed = replies.fill(confirm, conv.slots, {"slot_start": times[0]}) if confirm and len(times) == 1 else ""
    spoken = [replies.spoken_time(s) for s in within], [replies.spoken_time(s) for s in free]
    text = replies.narrowed(part, *spoken, proposed, day)
    # said already, with or without its day: the same part again is no news
    if any(replies.narrowed(part, *spoken, proposed).lower() in t.lower() for t in said_since_a_tool(conv.items)):
        return None
    return Plan(text=text)


def unfree_time(conv: Conversation) -> Plan | None:
    """The caller, asked for a time among the free ones, named a clock time that is not free that
    day: say which time was heard and is not free, and offer the free ones again ("I don't have
    11 AM that day. I have 10 AM, 12 PM, 1 PM and 2 PM. Which time works for you?"). Before, the
    time was passed over with "Which time would you like, for example 10 AM?", and a caller could
    not tell whether it was misheard or taken (bench robustness: a misheard budget picked another
    home, whose calendar had no 11 AM). The same time asked for again was heard right: it gets the
    free times nearest to it and another day ("I'm sorry, 11 AM is taken that day. The closest times
    are 10 AM and 12 PM. Which time works for you, or would you like another day?"); a third ask,
    the callback offered beside another time or day.
    Each is said once per offer; after them the normal path (another way, the callback). None
    otherwise."""
    free = _choosing_a_time(conv)
    if not free:
        return None
    wanted = conv.latest().time
    if wanted is None or any(datetime.fromisoformat(iso).time().replace(second=0) == wanted.replace(second=0)
                             for iso in free):
        return None
    day = datetime.fromisoformat(free[0]).date()
    heard = replies.spoken_time(datetime.combine(day, wanted).isoformat())
    said = said_since_a_tool(conv.items)
    text = replies.not_free(heard, [replies.spoken_time(s) for s in free])
    if text not in said:
        return Plan(text=text)
    asked_at = datetime.combine(day, wanted)
    nearest = sorted(sorted(free, key=lambda iso: abs((datetime.fromisoformat(iso) - asked_at).total_seconds()))[:2])
    for text in (replies.not_free_again(heard, [replies.spoken_time(s) for s in nearest]),
                 replies.not_free_callback(heard)):
        if text not in said:
            return Plan(text=text)
    return None


def _choosing_a_time(conv: Conversation) -> list[str]:
    """The day's free times (ISO, sorted) while the caller is picking one for the booking (no
    read-back pending, nothing booked yet); [] otherwise."""
    d = conv.d
    free = sorted(str(s) for s in conv.slots.get("free_slots") or [])
    if d.get("next_tool") != "book_tour" or d.get("read_back") or conv.slots.get("booking_id"):
        return []
    return free
