"""Rule-based slot extraction: every value one caller utterance states, typed.

The text comes from Whisper tiny.en listening to synthesized speech, so one value arrives in
many spellings: "415-555-0123", "four one five, five five five, oh one two three", "four
fifteen ...", "$450,000", "450 thousand", "450k", "Alamida" for Alameda. The extractors
normalise those into typed values a tool can take.

Why rules and not a model: the planner must give the same reply to the same words (tests,
replays, traces), must run offline in milliseconds, and its mistakes must be explainable
from the text alone. Everything here is a pure function of its arguments: no I/O and no
clock; "today" is passed in so "tomorrow" and "Saturday" resolve deterministically.

``extract`` runs the extractors in a fixed order, each claiming the tokens it used (see
``context``): identifiers first (longest digit strings), then addresses, dates, bedrooms,
times, money, choices, areas and names last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from worker.reading.choices import extract_choice
from worker.reading.context import Utterance
from worker.reading.dates import extract_dates
from worker.reading.identifiers import extract_card, extract_email, extract_phone, extract_policy
from worker.reading.money import extract_amount, extract_bedrooms, extract_budget
from worker.reading.names import extract_name
from worker.reading.places import extract_address, extract_area
from worker.reading.times import extract_time
from worker.reading.tokens import Words, read_words
from worker.reading.vocabulary import DEFAULT_AREAS
from worker.reading.wishes import extract_affirmation, extract_goodbye, extract_wants_human


__all__ = ["DEFAULT_AREAS", "Slots", "extract", "extract_from"]



class Slots(BaseModel):
    """What one caller utterance said, slot by slot; ``None`` means "not said".

    Crosses into the planner and into traces, hence pydantic. ``wants_human`` and
    ``goodbye`` are plain booleans because "not said" and "no" mean the same there.
    ``ordinal_choice`` is a 1-based position ("the first one" → 1, "option 3" → 3) and
    counts from the end when negative ("the last one" → -1, "second to last" → -2).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    budget: int | None = None
    area: str | None = None
    bedrooms: int | None = None
    date: dt.date | None = None
    time: dt.time | None = None
    ordinal_choice: int | None = None
    address: str | None = None
    amount_cents: int | None = None
    policy_number: str | None = None
    date_of_birth: dt.date | None = None
    card_number: str | None = None
    affirmation: bool | None = None
    wants_human: bool = False
    goodbye: bool = False


def extract(
    text: str,
    today: dt.date,
    expecting: str | None = None,
    known_areas: Sequence[str] | None = None,
) -> Slots:
    """Every slot the utterance fills.

    ``today`` anchors relative dates; ``expecting`` is the slot the agent just asked for
    and licenses bare answers ("Dana Whitfield", "nine hundred thousand", "two thirty",
    "twelve eighty four", "the second") that would be too ambiguous out of context.
    ``known_areas`` lists the areas to recognise (default: DEFAULT_AREAS).
    """
    return extract_from(read_words(text), today, expecting, known_areas)


def extract_from(
    words: Words,
    today: dt.date,
    expecting: str | None = None,
    known_areas: Sequence[str] | None = None,
) -> Slots:
    """``extract`` on words already read (a turn's reading tokenises its text only once)."""
    ctx = Utterance.of(words, today, expecting)
    areas = DEFAULT_AREAS if known_areas is None else tuple(known_areas)
    email = extract_email(ctx)
    policy = extract_policy(ctx)
    card = extract_card(ctx)
    phone = extract_phone(ctx)
    address = extract_address(ctx)
    day, dob = extract_dates(ctx)
    bedrooms = extract_bedrooms(ctx)
    when = extract_time(ctx)
    budget = extract_budget(ctx)
    amount = extract_amount(ctx)
    choice = extract_choice(ctx)
    area = extract_area(ctx, areas)
    name = extract_name(ctx)
    said = words.said
    return Slots(
        name=name,
        phone=phone,
        email=email,
        budget=budget,
        area=area,
        bedrooms=bedrooms,
        date=day,
        time=when,
        ordinal_choice=choice,
        address=address,
        amount_cents=amount,
        policy_number=policy,
        date_of_birth=dob,
        card_number=card,
        affirmation=extract_affirmation(said),
        wants_human=extract_wants_human(said),
        goodbye=extract_goodbye(said),
    )
