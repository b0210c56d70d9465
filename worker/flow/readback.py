"""Read-backs: how a critical value is said back to the caller, and whether it was.

Pure functions the machine uses to build the read-back question and to tell whether the
agent's last words stated the value (so a "yes" confirms that value and nothing else).
Digits are said one by one in groups ("5 1 0, 4 8 2, 7 3 9 1"): a speech engine reads "510"
as "five hundred ten", which a caller cannot check against the number they know.
"""

from __future__ import annotations

import re
from typing import Any

from worker.flow.spec import ReadBack


def digit_groups(digits: str) -> str:
    """"5104827391" → "5 1 0, 4 8 2, 7 3 9 1" (3-3-4 for ten digits, else groups of four)."""
    if len(digits) == 10:
        groups = [digits[:3], digits[3:6], digits[6:]]
    else:
        groups = [digits[i:i + 4] for i in range(0, len(digits), 4)]
    return ", ".join(" ".join(g) for g in groups)


def spoken(value: Any, rb: ReadBack) -> str:
    text = str(value)
    if rb.spoken_as == "digit_groups":
        digits = re.sub(r"\D", "", text)
        return digit_groups(digits) if digits else text
    return text


def question(value: Any, rb: ReadBack) -> str:
    return rb.say.format(value=spoken(value, rb))


def was_read_back(agent_text: str, value: Any, rb: ReadBack) -> bool:
    """The agent's words stated this value (digits compared as digits, words case-blind)."""
    if rb.spoken_as == "digit_groups":
        digits = re.sub(r"\D", "", str(value))
        return bool(digits) and digits in re.sub(r"\D", "", agent_text)
    return str(value).strip().lower() in agent_text.lower()
