"""Deterministic seed data for the sandbox.

Fixed listings and policies, and a tour calendar laid out relative to the sandbox's
"today", so that scenario files and tests written against ``MB_TODAY`` see the same
world on every run: "tomorrow at 2 PM at L-101" is always free, "tomorrow at 10 AM at
L-101" is always taken.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from tools.sandbox.records import Listing, Policy

#: Tour slots start on the hour from 10:00 through 16:00 (inclusive), sandbox local time.
SLOT_HOURS: tuple[int, ...] = tuple(range(10, 17))
#: Slots exist on the 14 days after "today" (today itself is not bookable: no clock).
WINDOW_DAYS = 14

LISTINGS: tuple[Listing, ...] = (
    Listing(listing_id="L-101", address="412 Grand Ave, Oakland, CA 94610", area="Oakland", price=725_000, bedrooms=2),
    Listing(listing_id="L-102", address="5830 College Ave, Oakland, CA 94618", area="Oakland", price=895_000, bedrooms=3),
    Listing(listing_id="L-103", address="1420 Lakeshore Ave, Oakland, CA 94606", area="Oakland", price=489_000, bedrooms=1),
    Listing(listing_id="L-201", address="2231 Dwight Way, Berkeley, CA 94704", area="Berkeley", price=815_000, bedrooms=2),
    Listing(listing_id="L-202", address="1650 Spruce St, Berkeley, CA 94709", area="Berkeley", price=1_350_000, bedrooms=4),
    Listing(listing_id="L-301", address="1520 Park St, Alameda, CA 94501", area="Alameda", price=975_000, bedrooms=3),
    Listing(listing_id="L-302", address="2107 Central Ave, Alameda, CA 94501", area="Alameda", price=699_000, bedrooms=2),
    Listing(listing_id="L-401", address="88 N 1st St, San Jose, CA 95113", area="San Jose", price=640_000, bedrooms=2),
    Listing(listing_id="L-402", address="1375 Lincoln Ave, San Jose, CA 95125", area="San Jose", price=1_120_000, bedrooms=3),
)

POLICIES: tuple[Policy, ...] = (
    Policy(policy_number="POL-4821", holder_name="Maria Gonzalez", date_of_birth=date(1984, 3, 12),
           premium_cents=128_400, currency="USD", status="active"),
    Policy(policy_number="POL-1093", holder_name="James Carter", date_of_birth=date(1990, 7, 4),
           premium_cents=96_550, currency="USD", status="active"),
    Policy(policy_number="POL-7310", holder_name="Priya Patel", date_of_birth=date(1978, 11, 23),
           premium_cents=213_075, currency="USD", status="active"),
    Policy(policy_number="POL-5566", holder_name="Daniel Kim", date_of_birth=date(1995, 1, 30),
           premium_cents=74_900, currency="USD", status="lapsed"),
    Policy(policy_number="POL-2048", holder_name="Linda Okafor", date_of_birth=date(1962, 5, 17),
           premium_cents=158_820, currency="USD", status="cancelled"),
)

#: Policy statuses a renewal can be quoted and paid for (a lapsed policy is reinstated).
RENEWABLE_STATUSES: frozenset[str] = frozenset({"active", "lapsed"})


def window_days(today: date) -> list[date]:
    """The bookable days: today+1 .. today+WINDOW_DAYS."""
    return [today + timedelta(days=offset) for offset in range(1, WINDOW_DAYS + 1)]


def slot_starts(today: date) -> list[datetime]:
    """Every tour slot start in the window, in order."""
    return [datetime.combine(day, time(hour)) for day in window_days(today) for hour in SLOT_HOURS]


def is_seed_hold(listing_id: str, day_offset: int, hour: int) -> bool:
    """Whether a slot is pre-booked by the seed: about one slot in five, spread evenly.

    Defined on the day *offset* from today (not the absolute date) so the pattern is the
    same whatever ``MB_TODAY`` is. E.g. L-101 tomorrow: 10:00 and 15:00 are taken.
    """
    number = int(listing_id.split("-", 1)[1])
    return (number * 7 + day_offset * 3 + hour) % 5 == 0
