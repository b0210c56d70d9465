"""A question asked again right after it was asked is put another way.

A caller who did not answer the first time (misheard, pushed back, said something unclear)
gains nothing from the same words again; agents say it shorter or with the shape of the answer
("What are the four digits of your policy number?"). A yes/no question (a read-back, the
charge's confirmation) keeps its words, since they carry the value to confirm, and says what
answer it needs. The third time is not this module's: `repair.not_a_third_time` offers another
way, and counts the other phrasing as the same question (`replies.asked_differently`).
"""

from __future__ import annotations

from worker.planner import replies
from worker.planner.plans import Plan

__all__ = ["YES_OR_NO", "asked_again"]

YES_OR_NO = "Sorry, I didn't catch a yes or a no."
#: What may come before a question asked again; a reply that says anything else (an outcome
#: the caller missed, an answer to their question) is not just the question again.
_SORRY = ("Sorry, I didn't quite get that. ", "Sorry, I didn't catch that. ")


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
    return Plan(text=sorry + other)
