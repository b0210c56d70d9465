"""What the caller wants, said in words: yes or no, a person, goodbye.

Plain patterns over the normalised words, so the common wordings are caught without a
model; ``intents`` (MiniLM) catches the paraphrases these miss. Negation wins over
agreement, and "I don't need a person" is not a request for one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from worker.reading.tokens import Tok

_NEUTRAL = re.compile(
    r"\b(?:no (?:more|later|earlier|less|sooner|higher|lower|further) than|not (?:sure|certain)|"
    r"i'm not sure|don't know|do not know|doesn't matter|does not matter|no idea|no rush|"
    r"whether or not|no matter|no longer|what i do)\b"
)
_NEGATIVE = re.compile(
    r"\b(?:no|nope|nah|nay|negative|cancel|incorrect|wrong|wait|stop|hold on|hang on|never ?mind|"
    r"not (?:right|correct|quite|yet|really|now|that|it|true|good|okay|ok)|don't|do not|dont|isn't|is not|"
    r"that's not|that is not|not at all|no way|no thanks|no thank you|"
    # a partial correction says no without the word: "(So) the last part is 0192"
    r"the (?:first|last|middle|second|third|end|final) (?:part|bit|group|digits|four|three|numbers?) (?:is|are|should)|"
    r"it should be|it's supposed to be)\b"
)
_POSITIVE = re.compile(
    r"\b(?:yes|yeah|yea|yep|yup|ya|sure|correct|exactly|absolutely|definitely|certainly|of course|"
    r"go ahead|please do|sounds good|sounds great|sounds right|sounds perfect|that works|works for me|"
    r"confirm|confirmed|affirmative|perfect|okay|ok|alright|all right|uh-huh|do it|book it|"
    r"let's do it|let's do that|that's right|that is right|that's correct|^right|yes please|"
    r"go for it|please proceed|proceed|i do|i agree|agreed)\b"
)
_HUMAN = re.compile(
    r"\b(?:talk|speak|speaking|chat|connect|transfer|put|get)\b(?: (?:me|to|with|through|a|an|the|some|"
    r"your|real|live|actual|human|person|over|please|just|someone|somebody|can|i|with))*? "
    r"(?:a |an |the |some |your |real |live |actual )*(?:person|human|agent|representative|rep|someone|"
    r"somebody|operator|manager|supervisor|people|customer service)\b"
    r"|\b(?:operator|representative|real person|live person|actual person|live agent|real human|"
    r"human being|a human|human please|agent please)\b"
    r"|\b(?:talk|speak|speaking|chat)\b(?: (?:to|with|just|directly|instead))* (?:one of your|one of the|a|an|your)"
    r" (?:realtors?|agents?|brokers?|advisers?|advisors?|colleagues?|staff|team|underwriters?|specialists?)\b"
)
_HUMAN_NEGATED = re.compile(r"\b(?:don't|do not|no need to|not|never|doesn't)\b(?: \S+){0,3}$")
_GOODBYE = re.compile(
    r"\b(?:bye|goodbye|good bye|bye-bye|that's all|that is all|that's it|that is it|nothing else|"
    r"that'll be all|that will be all|i'm done|we're done|have a (?:good|great|nice) (?:day|one|night|evening|weekend)|"
    r"hang up|talk to you later|take care)\b"
)


#: "Yes, not right" says yes and no at once: nobody means that (it is "yes, that's right" with
#: "that's" misheard as "not"), so it is neither; the agent asks again rather than guess.
_CONTRADICTION = re.compile(r"^(?:yes|yeah|yep|yup) not (?:right|correct)$")


def extract_affirmation(words: str) -> bool | None:
    """Negation wins: "no, that's not right" and "yes... wait" are both False."""
    if _CONTRADICTION.match(words.strip()):
        return None
    clean = _NEUTRAL.sub(" ", words)
    if _NEGATIVE.search(clean):
        return False
    if _POSITIVE.search(clean):
        return True
    return None


def extract_wants_human(words: str) -> bool:
    return any(not _HUMAN_NEGATED.search(words[:m.start()].rstrip()) for m in _HUMAN.finditer(words))


#: Words a goodbye is made of; any other word (or a number) in the turn is content.
_CLOSING_WORDS = frozenset("""
no nope nah yes yeah yep ok okay alright right well so oh um uh thanks thank you very much so for
bye goodbye good bye-bye that's that is it all i'm im we're done nothing else everything
have a great nice day one night evening weekend morning afternoon hang up talk to later take care
see ya cheers then now for today that'll will be appreciate your help the great perfect awesome
fine sounds wonderful lovely again just i think actually
""".split())


def carries_content(toks: Sequence[Tok]) -> bool:
    """Whether a turn says more than a goodbye: a word outside the closing words, or a number."""
    return any(t.kind != "word" or t.text not in _CLOSING_WORDS for t in toks)


def extract_goodbye(words: str) -> bool:
    return bool(_GOODBYE.search(words))
