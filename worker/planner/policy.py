"""The deterministic planner's decisions: from the conversation and the state's directive to a
reply and tool calls, the way an instruction-following model would do it.

It only *proposes*: every call it makes is checked by the state machine before it runs, and a
rejection comes back to it as a tool error like any model would see. What it knows of the
world is the directive (goal, missing slots with their questions, the tool the state wants,
slots already known) plus what the caller said, in the turn readings of `worker.reading`
(the same readings the call fed the state machine with, not a second reading).
Everything is a pure function of its inputs, so the same conversation gives the same reply.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from worker.planner import card_groups, narrowing, redirect, rephrase, repair, replies, verification
from worker.planner.arguments import build_args
from worker.planner.plans import AgentSaid, Called, Item, Output, Plan, ToolCall, UserSaid, call_id as _call_id
from worker.reading.names import spelled_word
from worker.reading.slots import Slots
from worker.reading.turn import TurnReading, read_turn

# ---------------------------------------------------------------- reading the conversation
# A bare answer ("4821") only means something after the question that asked for it.
_ASKED_BY = {**{f"{o} four digits": "card_group" for o in card_groups.ORDINALS}, "policy number": "policy_number", "date of birth": "date_of_birth", "which time": "time",
             "what time": "time", "which card": "card_number", "card number": "card_number"}


def _asked_for(agent_text: str) -> str | None:
    low = agent_text.lower()
    return next((slot for words, slot in _ASKED_BY.items() if words in low), None) if "?" in low else None


class Conversation:
    """What the planner can read: the directive and the caller's words, newest first."""

    def __init__(self, directive: dict[str, Any], items: list[Item], today: date) -> None:
        self.d = directive
        self.items = items
        self.today = today
        self.slots: dict[str, Any] = dict(directive.get("slots") or {})
        self.allowed: set[str] = set(directive.get("allowed_tools") or [])
        last_user = max((i for i, it in enumerate(items) if isinstance(it, UserSaid)), default=-1)
        self.since_user = items[last_user + 1:]
        self.user_texts = [it.text for it in items if isinstance(it, UserSaid)]
        self.asked: list[str | None] = []  # per caller text: the field the agent had just asked for
        prev, offered = "", False
        for it in items:
            if isinstance(it, AgentSaid) and it.text.strip() == replies.REPROMPT:
                continue  # "Are you still there?" asks nothing new: the question before it stands
            if isinstance(it, AgentSaid):
                offered = offered or replies.is_offer(it.text)  # the offer asks for the same again
                prev = prev if replies.is_offer(it.text) else it.text
            elif isinstance(it, UserSaid):
                asked = _asked_for(prev) if prev else None
                self.asked.append(asked or (self.asked[-1] if offered and self.asked else None))
                prev, offered = "", False

    @property
    def expecting(self) -> str | None:
        read_back = self.d.get("read_back")
        if read_back:
            return str(read_back["slot"])
        missing = self.d.get("missing") or []
        return missing[0]["slot"] if missing else (self.asked[-1] if self.asked else None)

    def reading(self) -> TurnReading:
        """The caller's latest turn, as the call read it."""
        return read_turn(self.user_texts[-1] if self.user_texts else "", self.today)

    def latest(self) -> Slots:
        return self.reading().slots(self.expecting)

    def recall(self, field_name: str) -> Any:
        """The newest value of a fact the caller stated, across the whole call."""
        for text, asked in zip(reversed(self.user_texts), reversed(self.asked)):
            value = getattr(read_turn(text, self.today).slots(asked), field_name, None)
            if value not in (None, "", False):
                return value
        return None

    def called_since_user(self) -> set[str]:
        return {it.name for it in self.since_user if isinstance(it, Called)}

    def agent_texts(self) -> list[str]:
        return [it.text for it in self.items if isinstance(it, AgentSaid)]


    def last_agent_text(self) -> str:
        return self._last_agent().text

    def last_agent_interrupted(self) -> bool:
        """The caller cut in on the agent's last words (`last_agent_text` is what was heard)."""
        return self._last_agent().interrupted

    def _last_agent(self) -> AgentSaid:
        return next((it for it in reversed(self.items) if isinstance(it, AgentSaid)), AgentSaid(""))


# ---------------------------------------------------------------- the decision
def plan(directive: dict[str, Any], items: list[Item], today: date) -> Plan:
    """Decide the next reply and tool calls for the conversation so far."""
    conv = Conversation(directive, items, today)
    if directive.get("terminal"):
        return Plan(text=replies.farewell(directive))
    if conv.since_user and any(isinstance(it, Output) for it in conv.since_user):
        return _after_tools(conv)
    step = repair.not_a_third_time(conv, _after_caller(conv))
    done_question = str(directive.get("done_question") or "")
    return rephrase.asked_again(step, _asked_now(conv), conv.last_agent_text(), done_question)


def _after_caller(conv: Conversation) -> Plan:
    said = conv.user_texts[-1] if conv.user_texts else ""
    latest = conv.latest()
    if "human" in conv.reading().wants and "create_case" in conv.allowed:
        args = {"reason": "caller_request", "summary": f"Caller asked for a person: {said[:200]}",
                "name": conv.slots.get("name") or conv.slots.get("holder_name"),
                "phone": conv.slots.get("phone"), "policy_number": conv.slots.get("policy_number")}
        args = {k: v for k, v in args.items() if v is not None}
        return Plan(text="Of course. Let me get a colleague to call you back.",
                    tool_calls=[ToolCall("create_case", args, _call_id(conv.items, "create_case", args))])
    if not said.strip() or not any(c.isalnum() for c in said):
        return Plan(text="Sorry, I didn't catch that. " + _question(conv))
    callback = repair.yes_to_the_callback(conv)
    if callback is not None:
        return callback
    if "goodbye" in conv.reading().wants:  # the machine did not end the call: ask first
        return Plan(text=replies.before_you_go(conv.d))
    spelled = spelled_word(conv.reading().words) if replies.asked_to_spell(conv.last_agent_text()) else None
    if spelled and conv.slots.get("name") and "save_caller_details" in conv.allowed:
        args = {"name": repair.respelled_name(str(conv.slots["name"]), spelled)}
        return Plan(text="Thank you.", tool_calls=[ToolCall("save_caller_details", args,
                                                           _call_id(conv.items, "save_caller_details", args))])
    if repair.heard_a_rejected_name_again(conv) and {"book_tour", "save_caller_details"} & set(conv.allowed):
        return repair.spell_name(conv)
    read_back = conv.d.get("read_back")
    if repair.was_asked(read_back, conv.last_agent_text(), conv.last_agent_interrupted()):
        answer = _answer_to_read_back(conv, latest, read_back)
        if answer is not None:
            return answer
    card = card_groups.step(conv)
    if card is not None:
        return card
    details = _new_details(conv, latest)
    if details:
        ack = replies.acknowledge(details, conv.slots)
        return Plan(text=ack, tool_calls=[ToolCall("save_caller_details", details,
                                                    _call_id(conv.items, "save_caller_details", details))])
    day = _changed_day(conv, latest)
    if day is not None:
        return day
    # "in the morning" and no clock time: the morning's times; a time that is not free: said so
    narrowed = narrowing.narrow_offer(conv) or narrowing.unfree_time(conv)
    if narrowed is not None:
        return narrowed
    step = _next_step(conv)
    unheard = _unheard_outcome(conv)
    if unheard and not step.tool_calls:  # nothing new to act on: first tell what the barge-in cut
        return Plan(text=f"{unheard} {step.text}")
    if not step.tool_calls and step.text == _question(conv) and not _heard_anything(conv, latest):
        if latest.affirmation is False and replies.is_yes_no(conv.last_agent_text()):
            return Plan(text="Sorry about that. " + step.text)  # a plain "no" was heard ("Is 415… the best number?")
        return Plan(text="Sorry, I didn't quite get that. " + step.text)
    return step


def _answer_to_read_back(conv: Conversation, latest: Slots, read_back: dict[str, Any]) -> Plan | None:
    """A partial correction patches the value read back; a plain "no" asks again (or, once the
    value was rejected twice, offers another way); a "yes" to the offered callback opens a case.
    Anything else (a "yes", a whole new value) takes the normal path."""
    slot = str(read_back["slot"])
    current = conv.slots.get(slot)
    if getattr(latest, slot, None) in (None, "") and slot == "phone" and isinstance(current, str):
        patched = repair.patch_digits(current, conv.reading().words)
        if patched and patched != current and "save_caller_details" in conv.allowed:
            args = {slot: patched}
            return Plan(text="Got it.", tool_calls=[ToolCall("save_caller_details", args,
                                                             _call_id(conv.items, "save_caller_details", args))])
    if _new_details(conv, latest):
        return None
    offered = replies.is_offer(conv.last_agent_text())
    if offered and latest.affirmation is True or "human" in conv.reading().wants:
        return repair.read_back_case(conv, read_back)
    if latest.affirmation is False:
        step = repair.read_back_step(read_back, conv.agent_texts())
        said_same = slot in repair.NAME_SLOTS and getattr(latest, slot, None) == current
        if (step != "ask" or said_same) and slot in repair.NAME_SLOTS:  # letters, a word per letter, a case
            return repair.spell_name(conv)  # "No, my name is <what we read back>": heard the same twice
        if step == "case":
            return repair.read_back_case(conv, read_back)
        if step == "offer":
            return Plan(text=replies.other_way(repair.offer_kind(slot, "")))
        return Plan(text=replies.ask_again(slot))
    return None


def _after_tools(conv: Conversation) -> Plan:
    """React to the tool results of this turn, then take the next step."""
    outputs = [it for it in conv.since_user if isinstance(it, Output)]
    calls = {it.call_id: it for it in conv.since_user if isinstance(it, Called)}
    last = outputs[-1]
    call = calls.get(last.call_id)
    missed = verification.after_verify(conv, last, call)  # a misheard policy number or birth date
    if missed is not None:
        return missed
    if last.is_error:
        if "rejected_by_state_machine" in last.output:
            return _next_step(conv, avoid=conv.called_since_user(), prefix="")
        taken = _taken_slot(last, call)
        if taken and "check_availability" in conv.allowed and "check_availability" not in conv.called_since_user():
            return _check_again(conv, taken)
        if "create_case" in conv.allowed and "create_case" not in conv.called_since_user():
            args = {"reason": "tool_failure", "summary": f"{last.name} failed: {last.output[:200]}",
                    "name": conv.slots.get("name") or conv.slots.get("holder_name"),
                    "phone": conv.slots.get("phone"), "policy_number": conv.slots.get("policy_number")}
            args = {k: v for k, v in args.items() if v is not None}
            return Plan(text="I'm sorry, something went wrong on our side. I'm opening a case for a colleague.",
                        tool_calls=[ToolCall("create_case", args, _call_id(conv.items, "create_case", args))])
        return Plan(text="I'm sorry, something went wrong on our side. " + _question(conv))
    try:
        result = json.loads(last.output)
    except ValueError:
        result = {}
    taken_before = next((t for o in outputs[:-1] if (t := _taken_slot(o, calls.get(o.call_id)))), None)
    if last.name == "check_availability" and taken_before and isinstance(result, dict):
        return Plan(text=replies.next_free(result.get("slots") or [], taken_before))
    day = str((call.args if call else {}).get("date") or "")
    narrowed = narrowing.narrow_offer(conv, replies.spoken_day(day)) if last.name == "check_availability" and day \
        else None
    if narrowed is not None:  # "Saturday morning?": that day's morning times
        return narrowed
    said = replies.on_result(last.name, result if isinstance(result, dict) else {}, call.args if call else {}, conv.slots)
    nxt = _next_step(conv, avoid=conv.called_since_user())
    text = " ".join(t for t in (said, nxt.text) if t)
    return Plan(text=text, tool_calls=nxt.tool_calls)


def _taken_slot(output: Output, call: Called | None) -> str | None:
    """The slot a booking asked for, when the booking failed because someone took it first
    (the calendar's `conflict`: another caller booked or held it since we checked)."""
    if output.name != "book_tour" or not output.is_error or call is None:
        return None
    try:
        code = json.loads(output.output).get("error")
    except (ValueError, AttributeError):
        return None
    return str(call.args.get("slot_start") or "") or None if code == "conflict" else None


def _check_again(conv: Conversation, taken: str) -> Plan:
    """Tell the caller the slot was just taken and look at the day's calendar again: the free
    slots we had are stale (the next reply offers the first free one after the taken one)."""
    args = {"listing_id": conv.slots.get("listing_id"), "date": conv.slots.get("tour_date") or taken[:10]}
    return Plan(text=replies.slot_taken(taken),
                tool_calls=[ToolCall("check_availability", args, _call_id(conv.items, "check_availability", args))])


def _next_step(conv: Conversation, avoid: set[str] | None = None, prefix: str = "") -> Plan:
    """Ask for what is missing, confirm, or call the state's tool."""
    avoid = avoid or set()
    d = conv.d
    read_back = d.get("read_back")
    if read_back:
        step = repair.read_back_step(read_back, conv.agent_texts())
        if step != "ask" and read_back["slot"] in repair.NAME_SLOTS:
            if not _spelled_just_now(conv):
                return repair.spell_name(conv, prefix)
            step = "ask"  # a name just spelled is new evidence: read it back first
        if step == "case" and "create_case" not in avoid:
            return repair.read_back_case(conv, read_back)
        offer = replies.other_way(repair.offer_kind(str(read_back["slot"]), ""))
        return Plan(text=prefix + (offer if step == "offer" else read_back["question"]))
    if d.get("missing"):
        return Plan(text=prefix + d["missing"][0]["question"])
    tool = d.get("next_tool")
    again = redirect.search_again(conv.slots, conv.items, conv.allowed) if "find_listings" not in avoid else None
    if again is not None:  # the caller changed the area or budget after the listings were read
        tool = "find_listings"
    if not tool:
        return Plan(text=prefix + replies.idle_question(d))
    args, missing = (again, None) if again is not None else build_args(tool, conv)
    if missing:
        return Plan(text=prefix + replies.ask_for_arg(tool, missing, conv.slots))
    if tool in avoid:
        return Plan(text=prefix + replies.idle_question(d))
    instead = verification.ask_instead(conv, args) if tool == "verify_identity" else None
    if instead is not None:  # nothing new since the identity check failed: ask, don't look it up again
        return Plan(text=prefix + instead)
    confirm = d.get("confirm")
    if confirm and not repair.confirmed(conv, confirm, args):
        asked = replies.fill(confirm, conv.slots, args)
        if asked in conv.last_agent_text() and conv.latest().affirmation is False:
            if tool == "book_tour" and conv.latest().name:  # "no, my name is …" heard the same again
                return repair.spell_name(conv, prefix)
            if d.get("confirm_no_asks"):  # a plain "no": ask for the value most likely misheard
                return Plan(text=prefix + replies.ask_again(str(d["confirm_no_asks"])))
        return Plan(text=prefix + asked)
    return Plan(text=prefix + replies.filler(tool), tool_calls=[ToolCall(tool, args, _call_id(conv.items, tool, args))])


def _spelled_just_now(conv: Conversation) -> bool:
    """The caller's latest turn answered a request to spell their name: the name it gave is new
    evidence, read back before spelling is asked again or a colleague is called."""
    users = [i for i, it in enumerate(conv.items) if isinstance(it, UserSaid)]
    before = [it.text for it in conv.items[:users[-1]] if isinstance(it, AgentSaid)] if users else []
    return bool(before) and replies.asked_to_spell(before[-1])


def _question(conv: Conversation) -> str:
    d = conv.d
    if d.get("read_back"):
        return str(d["read_back"]["question"])
    if d.get("missing"):
        return d["missing"][0]["question"]
    tool = d.get("next_tool")
    if tool:
        _, missing = build_args(tool, conv)
        if missing:
            return replies.ask_for_arg(tool, missing, conv.slots)
    return replies.idle_question(d)


def _asked_now(conv: Conversation) -> str:
    """The question the state asks now: `_question`, or the confirmation before its tool."""
    d = conv.d
    question = _question(conv)
    tool = d.get("next_tool")
    if question == replies.idle_question(d) and tool and d.get("confirm"):
        args, missing = build_args(tool, conv)
        if not missing:
            return replies.fill(str(d["confirm"]), conv.slots, args)
    return question


def _new_details(conv: Conversation, latest: Slots) -> dict[str, Any]:
    """Caller details worth saving: new values for the slots this state collects."""
    if "save_caller_details" not in conv.allowed:
        return {}
    out: dict[str, Any] = {}
    for key in ("name", "phone", "email", "budget", "area", "bedrooms"):
        value = getattr(latest, key, None)
        if value not in (None, "") and conv.slots.get(key) != value:
            out[key] = value
    return out


def _heard_anything(conv: Conversation, latest: Slots) -> bool:
    """Whether the caller's words carried anything usable at all."""
    fields = latest.model_dump(exclude_none=True)
    return any(v not in (False, "", [], None) for v in fields.values())


def _unheard_outcome(conv: Conversation) -> str:
    """What the last turn's tools did, when a barge-in cut it from the reply that carried it.

    The chat context holds what the caller heard (the reply truncated at the playout position and
    marked interrupted), so a booking or a receipt number said after the cut was never heard. The
    caller's next turn gets it back, briefly, unless that turn moves on to something new (the
    caller in `_after_caller` gave new details or the step calls a tool: then it is moot).
    """
    users = [i for i, it in enumerate(conv.items) if isinstance(it, UserSaid)]
    if len(users) < 2:
        return ""
    prev_turn = conv.items[users[-2] + 1:users[-1]]
    said = [it for it in prev_turn if isinstance(it, AgentSaid)]
    if not said or not (any(it.interrupted for it in said) or isinstance(prev_turn[-1], Output)):  # or never played
        return ""
    heard = " ".join(it.text for it in said)
    calls = {it.call_id: it for it in prev_turn if isinstance(it, Called)}
    missed: list[str] = []
    for out in prev_turn:
        if not isinstance(out, Output) or out.is_error:
            continue
        try:
            result = json.loads(out.output)
        except ValueError:
            continue
        call = calls.get(out.call_id)
        text = replies.on_result(out.name, result if isinstance(result, dict) else {}, call.args if call else {},
                                 conv.slots)
        if text and text not in heard and out.name not in ("find_listings", "check_availability"):
            missed.append(text)  # lists and free slots are asked about again anyway; outcomes are not
    return " ".join(missed)


def _changed_day(conv: Conversation, latest: Slots) -> Plan | None:
    """The caller corrected the day once its times were read ("no, Thursday, not Tuesday",
    often said over the read-out): check the new day's times instead of asking for a time."""
    known = conv.slots.get("tour_date")
    if "check_availability" not in conv.allowed or not known or latest.date is None:
        return None
    if latest.date.isoformat() == str(known)[:10]:
        return None
    args, missing = build_args("check_availability", conv)
    if missing:
        return None
    return Plan(text=replies.filler("check_availability"),
                tool_calls=[ToolCall("check_availability", args, _call_id(conv.items, "check_availability", args))])
