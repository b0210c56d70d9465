"""Pydantic arguments and results of every tool.

The argument models are the contract with the planner/LLM: their JSON schemas are what
the worker hands to livekit-agents, so field descriptions are written for a model that
has to fill them in. Validation is strict about meaning (a phone number has ten digits)
and lenient about form (spaces, dashes, "pol 4821", "$900k", "" for unknown) — see
:mod:`tools.fields`.

Results carry ready-to-speak text where wording matters (money, confirmations) so the
agent does not improvise amounts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator, model_validator

from tools.cards import CARD_MAX_DIGITS, CARD_MIN_DIGITS, card_digits
from tools.fields import (
    Area,
    Bedrooms,
    Cents,
    Dollars,
    Email,
    FlexibleDate,
    ListingId,
    LocalDateTime,
    NoteText,
    PersonName,
    Phone,
    PolicyNumber,
    SummaryText,
    blank_to_none,
    spoken_digits,
)

Stage = Literal["new", "qualified", "tour_booked", "lost"]
CaseReason = Literal["caller_request", "tool_failure", "other"]


def _literal_key(value: Any) -> Any:
    """"Tour booked" / "tour-booked" / "TOUR_BOOKED" → "tour_booked"."""
    if isinstance(value, str):
        return "_".join(value.strip().lower().replace("-", " ").split())
    return value


StageField = Annotated[Stage, BeforeValidator(_literal_key)]
CaseReasonField = Annotated[CaseReason, BeforeValidator(_literal_key)]

OptPhone = Annotated[Phone | None, BeforeValidator(blank_to_none)]
OptName = Annotated[PersonName | None, BeforeValidator(blank_to_none)]
OptEmail = Annotated[Email | None, BeforeValidator(blank_to_none)]
OptDollars = Annotated[Dollars | None, BeforeValidator(blank_to_none)]
OptArea = Annotated[Area | None, BeforeValidator(blank_to_none)]
OptBedrooms = Annotated[Bedrooms | None, BeforeValidator(blank_to_none)]
OptListingId = Annotated[ListingId | None, BeforeValidator(blank_to_none)]
OptPolicyNumber = Annotated[PolicyNumber | None, BeforeValidator(blank_to_none)]
OptNote = Annotated[NoteText | None, BeforeValidator(blank_to_none)]


def format_cents(cents: int) -> str:
    """1284_00 → "$1,284.00": the exact form an agent should read back."""
    return f"${cents // 100:,}.{cents % 100:02d}"


def format_dollars(dollars: int) -> str:
    """725000 → "$725,000"."""
    return f"${dollars:,}"


class ToolArgs(BaseModel):
    """Base of all argument models: unknown fields are errors (a misspelt argument must
    not be silently dropped), strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ToolResult(BaseModel):
    """Base of all result models."""

    model_config = ConfigDict(extra="forbid")


# --- save_caller_details ---------------------------------------------------------------


class SaveCallerDetailsArgs(ToolArgs):
    """What the caller has told us so far; every field optional, at least one required."""

    name: OptName = Field(default=None, description="Caller's full name as they said it.")
    phone: OptPhone = Field(default=None, description="Caller's US phone number, any format.")
    email: OptEmail = Field(default=None, description="Caller's email address.")
    budget: OptDollars = Field(default=None, description="Maximum price in whole US dollars, e.g. 900000.")
    area: OptArea = Field(default=None, description="City or neighbourhood they want, e.g. 'Oakland'.")
    bedrooms: OptBedrooms = Field(default=None, description="Minimum number of bedrooms.")

    @model_validator(mode="after")
    def _something_to_save(self) -> SaveCallerDetailsArgs:
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise ValueError("give at least one detail to save")
        return self


class SaveCallerDetailsResult(ToolResult):
    """The normalized details, echoed so the agent reads back what was understood."""

    name: str | None
    phone: str | None
    email: str | None
    budget: int | None
    area: str | None
    bedrooms: int | None
    saved: list[str] = Field(description="Names of the fields that were provided.")


# --- find_listings ---------------------------------------------------------------------


class FindListingsArgs(ToolArgs):
    area: Area = Field(description="City to search, e.g. 'Oakland', 'Berkeley', 'Alameda', 'San Jose'.")
    max_price: Dollars = Field(description="Maximum price in whole US dollars, e.g. 900000.")
    bedrooms: OptBedrooms = Field(default=None, description="Minimum number of bedrooms, if the caller said.")


class ListingSummary(ToolResult):
    listing_id: str
    address: str
    area: str
    price: int
    price_text: str
    bedrooms: int


class FindListingsResult(ToolResult):
    listings: list[ListingSummary] = Field(description="Up to 3 matches, cheapest first; empty if none.")
    available_areas: list[str] = Field(
        default_factory=list, description="When nothing matched: the areas we do have listings in."
    )


# --- check_availability ----------------------------------------------------------------


class CheckAvailabilityArgs(ToolArgs):
    listing_id: ListingId = Field(description="Listing id such as 'L-101'.")
    date: FlexibleDate = Field(description="Day to check, ISO format YYYY-MM-DD.")


class CheckAvailabilityResult(ToolResult):
    listing_id: str
    address: str
    date: date
    slots: list[str] = Field(description="Free tour start times that day, ISO datetimes; empty if none.")


# --- book_tour -------------------------------------------------------------------------


class BookTourArgs(ToolArgs):
    listing_id: ListingId = Field(description="Listing id such as 'L-101'.")
    slot_start: LocalDateTime = Field(
        description="Tour start, one of the times check_availability returned, ISO 'YYYY-MM-DDTHH:00:00' local."
    )
    name: PersonName = Field(description="Caller's full name.")
    phone: Phone = Field(description="Caller's US phone number.")


class BookTourResult(ToolResult):
    booking_id: str
    listing_id: str
    address: str
    slot_start: datetime
    confirmation: str = Field(description="Confirmation sentence to read to the caller.")


# --- update_opportunity ----------------------------------------------------------------


class UpdateOpportunityArgs(ToolArgs):
    phone: Phone = Field(description="Caller's US phone number (identifies the opportunity).")
    name: PersonName = Field(description="Caller's full name.")
    stage: StageField = Field(description="Sales stage: new, qualified, tour_booked or lost.")
    listing_id: OptListingId = Field(default=None, description="Listing the caller is interested in, if any.")
    note: OptNote = Field(default=None, description="Short note to append.")


class UpdateOpportunityResult(ToolResult):
    opportunity_id: str
    stage: Stage
    listing_id: str | None


# --- verify_identity -------------------------------------------------------------------


class VerifyIdentityArgs(ToolArgs):
    policy_number: PolicyNumber = Field(description="Policy number such as 'POL-4821'.")
    date_of_birth: FlexibleDate = Field(description="Policy holder's date of birth, YYYY-MM-DD.")

    @field_validator("date_of_birth")
    @classmethod
    def _plausible(cls, value: date) -> date:
        if value.year < 1900:
            raise ValueError("date of birth is before 1900")
        return value


class VerifyIdentityResult(ToolResult):
    policy_number: str
    verified: bool
    holder_name: str | None = Field(description="Only present when verified.")


# --- get_renewal_quote -----------------------------------------------------------------


class GetRenewalQuoteArgs(ToolArgs):
    policy_number: PolicyNumber = Field(description="Policy number such as 'POL-4821'.")


class GetRenewalQuoteResult(ToolResult):
    quote_id: str
    policy_number: str
    amount_cents: int
    currency: Literal["USD"]
    amount_text: str = Field(description="Amount to read to the caller, e.g. '$1,284.00'.")


# --- charge_card -----------------------------------------------------------------------


class ChargeCardArgs(ToolArgs):
    policy_number: PolicyNumber = Field(description="Policy number such as 'POL-4821'.")
    amount_cents: Cents = Field(description="Amount in integer cents, exactly the renewal quote's amount_cents.")
    card_number: SecretStr = Field(description="Card number, 13-19 digits; spaces or dashes allowed.")

    @field_validator("card_number", mode="before")
    @classmethod
    def _card_shape(cls, value: Any) -> Any:
        """Digits only, 13–19 of them. The error text never echoes the input."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise ValueError("card number must be text")
        digits = card_digits(spoken_digits(value))
        if not digits.isdigit() or not digits.isascii():
            raise ValueError("card number must contain only digits, spaces or dashes")
        if not CARD_MIN_DIGITS <= len(digits) <= CARD_MAX_DIGITS:
            raise ValueError(f"card number must have {CARD_MIN_DIGITS} to {CARD_MAX_DIGITS} digits, got {len(digits)}")
        return digits


class ChargeCardResult(ToolResult):
    charge_id: str
    policy_number: str
    amount_cents: int
    amount_text: str
    card_last4: str
    card_token: str
    status: Literal["succeeded"]


# --- create_case -----------------------------------------------------------------------


class CreateCaseArgs(ToolArgs):
    reason: CaseReasonField = Field(description="caller_request, tool_failure or other.")
    summary: SummaryText = Field(
        description="What the caller needs and what happened so far, for the person who calls back."
    )
    name: OptName = Field(default=None, description="Caller's name, if known.")
    phone: OptPhone = Field(default=None, description="Callback phone number, if known.")
    policy_number: OptPolicyNumber = Field(default=None, description="Policy number, if the call is about one.")


class CreateCaseResult(ToolResult):
    case_id: str
    reason: CaseReason
