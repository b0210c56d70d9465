"""The dates tests pin "today" to, named by the world each belongs to.

Relative dates ("tomorrow", "next Monday", the 14-day booking window, seeded bookings)
are computed from "today", so every assertion that names a date depends on which of these
its test uses. They differ on purpose; do not merge them.
"""

from __future__ import annotations

from datetime import date

#: The shipped scenarios' and flows' today, a Thursday: "tomorrow" is Friday 2026-11-27,
#: the day the scenarios book a tour (executor, conversation and room tests).
SCENARIO_TODAY = date(2026, 11, 26)

#: The tools' and step plans' world, a Monday: "tomorrow" is Tuesday 2025-06-03.
TOOLS_TODAY = date(2025, 6, 2)

#: The slot readers' today, a Thursday: "tomorrow" is Friday 2025-11-21, "next Monday"
#: 2025-11-24.
SLOTS_TODAY = date(2025, 11, 20)
