"""Rows the sandbox backends return, as pydantic models.

Backends hand out validated records rather than ``sqlite3.Row`` so that tests and actions
get real types (dates as ``date``, money as int cents) and nothing outside the sandbox
depends on column order. Note what is *absent*: no record carries a full card number.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

Stage = Literal["new", "qualified", "tour_booked", "lost"]
CaseReason = Literal["caller_request", "tool_failure", "other"]
PolicyStatus = Literal["active", "lapsed", "cancelled"]
BookingSource = Literal["caller", "seed"]
ChargeStatus = Literal["succeeded"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Listing(_Record):
    """A property a caller can tour. ``price`` is the asking price in whole dollars."""

    listing_id: str
    address: str
    area: str
    price: int
    bedrooms: int


class Booking(_Record):
    """One tour booking; ``source="seed"`` rows are the deterministic pre-booked holds."""

    booking_id: str
    listing_id: str
    slot_start: datetime
    name: str
    phone: str
    source: BookingSource
    idempotency_key: str | None
    created_at: datetime


class Opportunity(_Record):
    """CRM opportunity, one per caller phone number."""

    opportunity_id: str
    phone: str
    name: str
    stage: Stage
    listing_id: str | None
    notes: str
    created_at: datetime
    updated_at: datetime


class Policy(_Record):
    """Insurance policy as the policy admin system knows it."""

    policy_number: str
    holder_name: str
    date_of_birth: date
    premium_cents: int
    currency: Literal["USD"]
    status: PolicyStatus


class Quote(_Record):
    """Renewal quote; deterministic per policy and sandbox day, so it is not stored."""

    quote_id: str
    policy_number: str
    amount_cents: int
    currency: Literal["USD"]


class Charge(_Record):
    """A card charge. Only the token and last four digits of the card are kept."""

    charge_id: str
    policy_number: str
    amount_cents: int
    currency: Literal["USD"]
    card_token: str
    card_last4: str
    status: ChargeStatus
    idempotency_key: str | None
    created_at: datetime


class Case(_Record):
    """A case on the human case desk (callback / escalation)."""

    case_id: str
    reason: CaseReason
    summary: str
    caller_name: str | None
    caller_phone: str | None
    policy_number: str | None
    idempotency_key: str | None
    created_at: datetime
