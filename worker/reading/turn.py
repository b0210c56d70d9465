"""One reading of a caller turn, shared by the call and the offline planner.

The call reads every turn to feed the state machine (yes/no, wishes), whatever LLM is
configured; the offline planner reads the same turn to fill tool arguments (slots) and to
spot a request for a person. Both ask `read_turn(text, today)` and get the same object.

Why a memo and not an argument passed along: the planner sits behind livekit-agents' `llm.LLM`
seam and sees only the chat context the session hands it, never the call's objects; it also
re-reads earlier turns ("the date said three turns ago"). A reading is a pure function of
(text, today), so a process-wide memo hands the planner the very object the call made with
no plumbing through the framework's chat items, and an evicted entry is simply read again to
the same value. The memo holds recent caller texts in memory only (never in logs or traces).

What is read at once and what on demand: the call needs the context-free part (the intent by
meaning, yes/no, wishes), read when the turn arrives. Slots depend on the question the caller
answered (a bare "Dana Whitfield" is a name only after "your name?"), which only the planner
knows; they are extracted on first use, once per question that changes them, from the
turn's tokens.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, PrivateAttr

from worker.flow.machine import CallerTurn
from worker.reading.context import ANSWERABLE
from worker.reading.intents import classify
from worker.reading.slots import Slots, extract_from
from worker.reading.tokens import Words, read_words
from worker.reading.wishes import carries_content, extract_affirmation, extract_goodbye, extract_wants_human


class TurnReading(BaseModel):
    """What one caller turn says: the machine's fields, the intent, and slots on demand."""

    model_config = ConfigDict(frozen=True)

    text: str
    today: date
    intent: str
    """The nearest example intent by meaning (`intents.EXAMPLES`), or "other"."""
    intent_score: float
    affirmation: bool | None
    """Yes/no in words, else the intent's affirm/deny; None when neither says."""
    wants: tuple[str, ...]
    """"human" and/or "goodbye", in words or by meaning; a person outranks goodbye, and a
    goodbye whose turn carries content (a name, a number, a place) is none."""

    _words: Words = PrivateAttr()
    _slots: dict[str | None, Slots] = PrivateAttr(default_factory=dict)

    def slots(self, expecting: str | None = None) -> Slots:
        """Every slot the turn fills, read as an answer to `expecting` (memoised per question).

        A question that licenses no bare answer (not in ANSWERABLE: "area", "email")
        reads like no question, so it shares the context-free reading.
        """
        question = expecting if expecting in ANSWERABLE else None
        if question not in self._slots:
            self._slots[question] = extract_from(self._words, self.today, question)
        return self._slots[question]

    @property
    def words(self) -> Words:
        """The turn's normalised tokens (for readers that need the words, not a slot)."""
        return self._words

    def caller_turn(self) -> CallerTurn:
        """The state machine's event for this turn."""
        return CallerTurn(text=self.text, affirmation=self.affirmation, wants=list(self.wants))


@lru_cache(maxsize=1024)
def read_turn(text: str, today: date) -> TurnReading:
    """The one reading of a caller's words. Rules decide first; the embedding intent fills in
    paraphrases the rules miss."""
    words = read_words(text)
    said = words.said
    intent, score = classify(text)
    human = extract_wants_human(said) or intent == "human"
    # "Bye, my name is Dana" (a misheard "Hi") carries content: not a goodbye.
    goodbye = (extract_goodbye(said) or intent == "goodbye") and not human and not carries_content(words.toks)
    affirmation = extract_affirmation(said)
    if affirmation is None and intent in ("affirm", "deny"):
        affirmation = intent == "affirm"
    wants = tuple(w for w, flag in (("human", human), ("goodbye", goodbye)) if flag)
    reading = TurnReading(text=text, today=today, intent=intent, intent_score=score,
                          affirmation=affirmation, wants=wants)
    reading._words = words
    return reading


def read_caller_turn(text: str, today: date) -> CallerTurn:
    """The state machine's event for a caller's words (the call's use of the shared reading)."""
    return read_turn(text, today).caller_turn()
