"""The repair dialogue's rules inside the state machine: read-backs, confirmations, mishearings
and where a goodbye counts.

A mixin of `ConversationMachine` (kept apart so the engine stays small): every method reads and
writes the machine's own state, is pure like it, and is driven by the same events. The flow
declares what is read back (`FlowSpec.read_back`); here is how a caller's answer is folded in.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from worker.flow import readback
from worker.flow.spec import FlowSpec, ReadBack

if TYPE_CHECKING:
    from worker.flow.machine import CallerTurn, ConversationState


_LETTERS = re.compile(r"[^\w'-]|[\d_]")


def _word(text: str) -> str:
    """A word as compared between a slot value and the caller's words: lower case, letters only."""
    return _LETTERS.sub("", text.lower()).strip("'-")


def heard_words(text: str, confidences: list[float] | None) -> dict[str, list[float]]:
    """The turn's words (letters only: no number is kept) → the recogniser's confidence in the
    word, then in each word after it up to the end of its clause (a comma, a full stop);
    {} unless there is one confidence per whitespace word of `text`.

    The clause's rest goes with a value's last word: "This is Kevin and GUIN." read as "Kevin"
    is as unsure as "and GUIN" (the whole turn's confidence caught those; the name's word alone
    did not: 4 of 49 wrong names on the multi-voice set)."""
    words = text.split()
    heard: dict[str, list[float]] = {}
    if confidences is None or len(confidences) != len(words):
        return heard
    for i, (word, confidence) in enumerate(zip(words, confidences)):
        end = next((j for j in range(i, len(words)) if words[j][-1] in ",.?!;:"), len(words) - 1)
        key = _word(word)
        if key and not any(c.isdigit() for c in word) and confidence < heard.get(key, [1.1])[0]:
            heard[key] = [confidence, *confidences[i + 1:end + 1]]
    return heard


_NOT_DONE = ("wait", "but", "actually", "also", "another", "more", "question", "?")


def _short_no(event: "CallerTurn") -> bool:
    """A short "no" (at most four words, nothing that keeps the call going): the answer to
    "anything else?" whatever the recogniser made of its last words."""
    low = event.text.lower()
    return (event.affirmation is False and low.lstrip(" ,.").startswith("no")
            and len(low.split()) <= 4 and not any(w in low for w in _NOT_DONE))


class RepairRules:
    """Read-backs and goodbyes, for `ConversationMachine`."""

    flow: FlowSpec
    s: "ConversationState"

    def is_confirmed(self, slot: str) -> bool:
        value = self.s.slots.get(slot)
        return value not in (None, "", []) and self.s.confirmed_values.get(slot) == value

    def pending_read_back(self) -> ReadBack | None:
        """The first declared read-back whose slot holds a value the caller has not confirmed."""
        for rb in self.flow.read_back:
            value = self.s.slots.get(rb.slot)
            if value not in (None, "", []) and not self.is_confirmed(rb.slot):
                return rb
        return None

    def _read_back_directive(self) -> dict[str, Any] | None:
        rb = self.pending_read_back()
        if rb is None or self.flow.states[self.s.state].terminal:
            return None
        value = self.s.slots[rb.slot]
        return {"slot": rb.slot, "question": readback.question(value, rb),
                "misheard": self.s.misheard.get(rb.slot, 0)}

    def _wants(self, event: CallerTurn) -> set[str]:
        """A goodbye counts only where it makes sense: a closing state, or right after the
        agent asked whether the caller is done. Elsewhere it is dropped (the reply asks)."""
        wants = set(event.wants)
        spec = self.flow.states[self.s.state]
        asked_done = self.flow.done_question.strip().lower() in self.s.last_agent_text.lower()
        if "goodbye" in wants and not (spec.closing or asked_done):
            wants.discard("goodbye")
        if asked_done and _short_no(event) and "human" not in wants:
            wants.add("goodbye")  # "anything else?" — "No, that's all" with "all" misheard ("No, that's oil.")
        return wants

    def _answer_read_back(self, event: CallerTurn) -> None:
        """A "yes" right after a read-back confirms the value read; a "no" counts a mishearing."""
        rb = self.pending_read_back()
        if rb is None:
            return
        value = self.s.slots[rb.slot]
        if not readback.was_read_back(self.s.last_agent_text, value, rb):
            return
        self.s.read_back_heard[rb.slot] = value
        if event.affirmation is True:
            self.s.confirmed_values[rb.slot] = value
        elif event.affirmation is False:
            self._misheard(rb.slot)
            del self.s.read_back_heard[rb.slot]  # the value that follows is this same repair

    def _misheard(self, slot: str) -> None:
        if self.s.misheard_turn.get(slot) != self.s.turn:
            self.s.misheard[slot] = self.s.misheard.get(slot, 0) + 1
            self.s.misheard_turn[slot] = self.s.turn

    def value_confidence(self, value: Any) -> tuple[float | None, float]:
        """How sure the recogniser was of `value`, and the flow's threshold for it.

        The mean probability of the value's own words in the last caller turn (and of the rest of
        the clause after them: `heard_words`), against
        `low_word_confidence`, when the recogniser gave word confidences and the turn holds all
        the value's words; else the turn's confidence against `low_confidence` (an STT without
        word confidences, a value said in an earlier turn; None for typed and keyed text)."""
        words = [_word(w) for w in str(value).split()]
        heard = self.s.last_caller_words
        if words and all(w and w in heard for w in words):
            confidences = [heard[w][0] for w in words] + heard[words[-1]][1:]
            return sum(confidences) / len(confidences), self.flow.low_word_confidence
        return self.s.last_caller_confidence, self.flow.low_confidence

    def _on_new_value(self, slot: str, value: Any) -> None:
        """A corrected value after a read-back is a mishearing; a value heard with good
        confidence needs no read-back when the flow reads it back only on low confidence."""
        rb = self.flow.read_back_for(slot)
        if rb is None:
            return
        heard = self.s.read_back_heard.get(slot)
        if heard is not None and heard != value:
            self._misheard(slot)
        conf, low = self.value_confidence(value)
        if rb.when == "low_confidence" and not (conf is not None and conf < low):
            self.s.confirmed_values[slot] = value
