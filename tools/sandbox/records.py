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
HoldStatus = Literal["held", "confirmed"]
AuthorizationStatus = Literal["authorized", "captured"]


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
    hold_id: str | None = None


class Hold(_Record):
    """A tour slot held for a caller until it is confirmed into a :class:`Booking`."""

    hold_id: str
    listing_id: str
    slot_start: datetime
    phone: str
    status: HoldStatus
    booking_id: str | None
    idempotency_key: str | None
    created_at: datetime


class OutboxMessage(_Record):
    """A message the calendar system sent (a booking confirmation by SMS)."""

    message_id: str
    booking_id: str
    channel: Literal["sms"]
    recipient: str
    body: str
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
    authorization_id: str | None = None


class VaultCard(_Record):
    """A tokenized card: the token and the last four digits, never the number."""

    card_token: str
    card_last4: str
    created_at: datetime


class Authorization(_Record):
    """Money reserved on a card; :meth:`PaymentsBackend.capture` turns it into a charge."""

    authorization_id: str
    policy_number: str
    amount_cents: int
    currency: Literal["USD"]
    card_token: str
    card_last4: str
    status: AuthorizationStatus
    idempotency_key: str | None
    created_at: datetime


class Receipt(_Record):
    """A receipt sent for a charge."""

    receipt_id: str
    charge_id: str
    policy_number: str
    amount_cents: int
    card_last4: str
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
