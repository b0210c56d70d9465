"""SQLite-backed sandbox backends for the tool actions (see :class:`Sandbox`)."""

from tools.sandbox.core import Sandbox
from tools.sandbox.faults import FAULT_CODES, ArmedFault, FaultEvent, FaultInjector, FaultKind
from tools.sandbox.records import (
    Authorization,
    Booking,
    Case,
    Charge,
    Hold,
    Listing,
    Opportunity,
    OutboxMessage,
    Policy,
    Quote,
    Receipt,
    VaultCard,
)
from tools.sandbox.seed import LISTINGS, POLICIES, SLOT_HOURS, WINDOW_DAYS

__all__ = [
    "FAULT_CODES",
    "LISTINGS",
    "POLICIES",
    "SLOT_HOURS",
    "WINDOW_DAYS",
    "ArmedFault",
    "Authorization",
    "Booking",
    "Case",
    "Charge",
    "FaultEvent",
    "FaultInjector",
    "FaultKind",
    "Hold",
    "Listing",
    "Opportunity",
    "OutboxMessage",
    "Policy",
    "Quote",
    "Receipt",
    "Sandbox",
    "VaultCard",
]
