"""SQLite-backed sandbox backends for the tool actions (see :class:`Sandbox`)."""

from tools.sandbox.core import Sandbox
from tools.sandbox.faults import FAULT_CODES, ArmedFault, FaultEvent, FaultInjector, FaultKind
from tools.sandbox.records import Booking, Case, Charge, Listing, Opportunity, Policy, Quote
from tools.sandbox.seed import LISTINGS, POLICIES, SLOT_HOURS, WINDOW_DAYS

__all__ = [
    "FAULT_CODES",
    "LISTINGS",
    "POLICIES",
    "SLOT_HOURS",
    "WINDOW_DAYS",
    "ArmedFault",
    "Booking",
    "Case",
    "Charge",
    "FaultEvent",
    "FaultInjector",
    "FaultKind",
    "Listing",
    "Opportunity",
    "Policy",
    "Quote",
    "Sandbox",
]
