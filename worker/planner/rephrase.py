"""A question asked again right after it was asked is put another way.

A caller who did not answer the first time (misheard, pushed back, said something unclear)
gains nothing from the same words again; agents say it shorter or with the shape of the answer
("What are the four digits of your policy number?"). A yes/no question (a read-back, the
charge's confirmation) keeps its words, since they carry the value to confirm, and says what
answer it needs. The third time is not this module's: `repair.not_a_third_time` offers another
way, and counts the other phrasing as the same question (`replies.asked_differently`).
"""

from __future__ import annotations

import re

from worker.planner import replies
from worker.planner.plans import Plan

__all__ = ["YES_OR_NO", "asked_again"]

YES_OR_NO = "Sorry, I didn't catch a yes or a no."
#: What may come before a question asked again; a reply that says anything else (an outcome
#: the caller missed, an answer to their question) is not just the question again.
_SORRY = ("Sorry, I didn't quite get that. ", "Sorry, I didn't catch that. ")
_TIME_EXAMPLE = "for example 10 AM"
_OFFERED_TIME = re.compile(r"\bI have (\d{1,2}(?::\d\d)? [AP]M)\b")
"""The first time of an offer ("... in the afternoon I have 1 PM and 2 PM."): the example of the time
question asked again, instead of a fixed 10 AM the offer may not hold."""


def asked_again(step: Plan, question: str, last_agent_text: str, keep: str = "") -> Plan:
    """`step`, with `question` put another way when it only asks what the agent's last words
    asked already (unchanged otherwise, when it runs a tool, and for `keep`: the flow's done
    question, which the state machine reads as it is)."""
    if step.tool_calls or not question or question == keep or question not in last_agent_text:
        return step
    sorry = next((p for p in _SORRY if step.text.startswith(p)), "")
    if step.text[len(sorry):] != question:
        return step
    if replies.is_yes_no(question):
        return Plan(text=f"{YES_OR_NO} {question}")
    other = replies.asked_differently(question)
    if other is None or other == question:
        return step
    offered = _OFFERED_TIME.search(last_agent_text)
    if offered and _TIME_EXAMPLE in other:  # the example from the offer: "In the afternoon I have 1 PM and 2 PM."
        other = other.replace(_TIME_EXAMPLE, f"for example {offered.group(1)}")
    return Plan(text=sorry + other)
