"""Identity checks that fail: a policy number the records do not know, or a birth date that does
not match the policy. On a bad line both are most often a mishearing, not a stranger.

So the agent says what it heard and asks for that value again (the caller can tell a misheard
"4 8 1 2" from their own number); after the second miss it offers another way (the policy
digit by digit, the date with the month's name) with a colleague's callback; after the third it
opens that callback case. Both misses open the same way ("I couldn't verify those details") and
a birth-date miss never names the policy or "our records": like a human agent, the reply does
not confirm to someone who does not know the birth date that the policy exists. The same two-strikes rule as for a rejected read-back (`repair.py`).
Counted over the whole call from the tool outputs, so the rule is a pure function of the
conversation like the rest of the planner.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal

from worker.planner import replies
from worker.planner.plans import Called, Item, Output, Plan, ToolCall, call_id
from worker.planner.repair import CASE_AFTER, OFFER_AFTER

__all__ = ["after_verify", "ask_instead", "misses"]

Miss = Literal["policy_number", "date_of_birth"]


def _miss(output: Output) -> Miss | None:
    """Which value a `verify_identity` outcome says is wrong: no such policy is the policy
    number; a policy found but not verified is the birth date."""
    try:
        body = json.loads(output.output)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    if output.is_error:
        return "policy_number" if body.get("error") == "not_found" else None
    return "date_of_birth" if body.get("verified") is False else None


def misses(items: list[Item], what: Miss) -> int:
    """How many identity checks in the call failed on `what`."""
    return sum(1 for it in items if isinstance(it, Output) and it.name == "verify_identity" and _miss(it) == what)


def _spoken_policy(policy_number: Any) -> str:
    """"POL-4812" → "4 8 1 2": digits one by one, as the caller would check them."""
    digits = "".join(c for c in str(policy_number or "") if c.isdigit())
    return " ".join(digits) or "that policy"


def _spoken_date(value: Any) -> str:
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        return "that date"
    return f"{day:%B} {day.day}, {day.year}"


def _case(conv: Any, what: Miss, tries: int) -> Plan:
    slots = conv.slots
    args = {"reason": "other",
            "summary": f"Could not verify the caller: the {what.replace('_', ' ')} did not match after {tries} tries; "
                       "please call back.",
            "name": slots.get("name") or slots.get("holder_name"), "phone": slots.get("phone")}
    args = {k: v for k, v in args.items() if v is not None}
    return Plan(text="I'm sorry about the trouble. I'll have a colleague call you back.",
                tool_calls=[ToolCall("create_case", args, call_id(conv.items, "create_case", args))])


def after_verify(conv: Any, output: Output, call: Called | None) -> Plan | None:
    """The reply to a failed identity check (None: it did not fail on a value the caller gave).
    `conv` is the planner's `policy.Conversation`."""
    if output.name != "verify_identity":
        return None
    what = _miss(output)
    if what is None:
        return None
    tries = misses(conv.items, what)
    if tries >= CASE_AFTER and "create_case" in conv.allowed:
        return _case(conv, what, tries)
    args = call.args if call else {}
    if what == "policy_number":
        policy = _spoken_policy(args.get("policy_number"))
        if tries >= OFFER_AFTER:
            return Plan(text=f"I still couldn't verify those details with policy {policy}. {replies.other_way('digits')}")
        return Plan(text=f"{NOT_VERIFIED} I heard policy {policy}. {ASK_POLICY_AGAIN}")
    # the birth date said back, never the policy nor "our records": that would tell someone who
    # does not know the birth date that the policy exists
    heard = _spoken_date(args.get("date_of_birth"))
    if tries >= OFFER_AFTER:
        return Plan(text=f"I still couldn't verify those details with {heard}. {replies.other_way('date')}")
    return Plan(text=f"{NOT_VERIFIED} I heard {heard} as your date of birth. {ASK_BIRTH_DATE_AGAIN}")


NOT_VERIFIED = "I'm sorry, I couldn't verify those details."
ASK_POLICY_AGAIN = "Could you say the four digits of your policy number again?"
ASK_POLICY_NOT_DATE = "Thanks, I have your date of birth. What's your policy number?"
ASK_BIRTH_DATE_AGAIN = "Could you tell me your date of birth again?"


def ask_instead(conv: Any, args: dict[str, Any]) -> str | None:
    """The question to ask instead of checking the identity again, when the value the last
    check failed on is unchanged and the caller's latest turn did not say it again (a date
    given when the policy number was asked for, a word the agent could not read): the same
    lookup would only fail the same way and count as one more miss. None: check again."""
    last = next((it for it in reversed(conv.items) if isinstance(it, Output) and it.name == "verify_identity"), None)
    what = _miss(last) if last is not None else None
    call = next((it for it in conv.items if isinstance(it, Called) and last is not None
                 and it.call_id == last.call_id), None)
    if what is None or call is None or args.get(what) != call.args.get(what):
        return None
    latest = conv.latest()
    if getattr(latest, what, None) is not None:
        return None  # said again: heard the same way, it is checked (and counted) again
    if what == "policy_number":
        return ASK_POLICY_NOT_DATE if latest.date_of_birth is not None else ASK_POLICY_AGAIN
    return ASK_BIRTH_DATE_AGAIN
