"""The words the slot extractors know: number words, months, cues and stop lists.

Kept apart from the rules so that tuning what counts as a cue ("around", "up to") or as a
non-name ("I'm *relocating*") is an edit to a list, not to an extractor. Every list is a
frozen set or a fixed mapping: nothing here changes at run time.
"""

from __future__ import annotations

UNITS: dict[str, int] = {
    "zero": 0, "oh": 0, "o": 0, "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}
ZERO_WORDS = frozenset({"zero", "oh", "o"})
#: What the recogniser writes for a digit word on voices it hears badly ("five" → "fine").
#: Read as digits only when the agent asked for a number and the word sits among digits.
DIGIT_HOMOPHONES: dict[str, str] = {
    "fine": "five", "fife": "five", "for": "four", "fore": "four", "to": "two", "too": "two",
    "won": "one", "ate": "eight", "free": "three", "tree": "three", "sex": "six", "nein": "nine",
    "owe": "oh", "nought": "zero", "w": "double",
}
#: Parts of the day that make an hour a time ("two in the afternoon", "this morning").
DAY_PARTS = frozenset({"morning", "afternoon", "evening"})
#: The questions whose answer is a string of digits (phone, card, policy number).
DIGIT_SLOTS = frozenset({"phone", "card_number", "card", "policy_number", "policy"})
TEENS: dict[str, int] = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS: dict[str, int] = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
SCALES: dict[str, int] = {
    "thousand": 1_000, "k": 1_000, "grand": 1_000,
    "million": 1_000_000, "mil": 1_000_000, "m": 1_000_000, "mm": 1_000_000,
    "billion": 1_000_000_000,
}
ORDINAL_WORDS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}
NUMBER_WORDS = frozenset(UNITS) | frozenset(TEENS) | frozenset(TENS) | {"hundred"} | frozenset(SCALES)

MONTHS: dict[str, int] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
WEEKDAYS: dict[str, int] = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}
DEFAULT_AREAS: tuple[str, ...] = ("Oakland", "Berkeley", "Alameda", "San Jose", "Palo Alto", "Fremont")
AREA_WORDS = frozenset(w.lower() for area in DEFAULT_AREAS for w in area.split())
BED_WORDS = frozenset({"bedroom", "bedrooms", "bed", "beds", "br", "bd", "bdr", "bdrm", "bedrm"})
STREET_SUFFIXES = frozenset({
    "street", "st", "avenue", "ave", "av", "road", "rd", "boulevard", "blvd", "drive", "dr",
    "lane", "ln", "way", "court", "ct", "place", "pl", "terrace", "circle", "cir", "parkway",
    "pkwy", "highway", "hwy", "square", "trail", "plaza", "alley",
})
POLICY_PREFIX_WORDS = frozenset({"pol", "polly", "poly", "paul", "pole", "poll", "pall"})
MONEY_AFTER = frozenset({"dollars", "dollar", "bucks", "usd"})
BUDGET_CUES = frozenset({
    "budget", "budget's", "budgeted", "up", "under", "below", "max", "maximum", "around", "about",
    "approximately", "roughly", "less", "afford", "spend", "spending", "price", "priced",
    "range", "between", "ceiling", "top", "cap", "limit", "most", "within",
})
TIME_CUES = frozenset({"at", "around", "by", "till", "until", "before", "after", "between", "say"})
# Words that may follow a bare "at two" and still leave it a time ("at two on Saturday"),
# as opposed to "look at two houses".
TIME_FOLLOWERS = frozenset({
    "on", "tomorrow", "today", "tonight", "then", "please", "works", "work", "would", "that",
    "this", "next", "in", "and", "or", "for", "ish", "sharp", "if", "is", "so", "thanks", "thank",
    "okay", "ok", "sounds", "should", "maybe", "yes", "yeah", "i", "we", "could", "fine", "good",
    "great", "perfect", "to", "the", "pm", "am", "o'clock", "exactly", "right",
}) | frozenset(WEEKDAYS) | frozenset(MONTHS)
# Words that may follow "28 November" (no year) and leave it a date: a time, a verb, "please";
# not a noun, since "2 March dates" counts things.
DATE_FOLLOWERS = TIME_FOLLOWERS | TIME_CUES | DAY_PARTS | frozenset({
    "is", "was", "suits", "sounds", "looks", "it", "too",
})
CHOICE_WORDS = frozenset({"number", "option", "choice", "listing"})
NOT_LAST = frozenset({"name", "week", "year", "month", "time", "night", "call", "visit", "four", "digits", "minute"})
NOT_CHOICE_BEFORE = frozenset({"a", "one", "just", "at", "my", "your"})  # "wait a second", "at first"
NOT_CHOICE_OWNERS = frozenset({
    "my", "phone", "policy", "card", "your", "account", "confirmation", "case", "house", "street", "our",
})
NAME_CUES: tuple[tuple[str, ...], ...] = (
    ("my", "name", "is"), ("my", "name's"), ("the", "name", "is"), ("the", "name's"),
    ("name", "is"), ("name's",), ("call", "me"), ("this", "is"), ("it", "is"), ("it's",),
    ("i", "am"), ("i'm",), ("here", "is"),
)
STRONG_NAME_CUES = frozenset({("my", "name", "is"), ("my", "name's"), ("the", "name", "is"),
                               ("the", "name's"), ("name", "is"), ("name's",), ("call", "me")})
EMAIL_LOCAL_STOP = frozenset({
    "me", "is", "it's", "email", "mail", "address", "us", "him", "her", "them", "look", "looking",
    "here", "there", "be", "am", "are", "was", "were", "live", "living", "work", "works", "working",
    "and", "or", "the", "a", "an", "that", "this", "i'm", "we're", "it", "reach", "home", "stay",
})
HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "mister", "dr", "doctor"})
#: Sounds of a caller still thinking: a turn that stops on one is not finished
#: (`worker.reading.turn_end`). Backchannels ("mhm", "uh-huh", "oh") are not here: said alone
#: they are a whole turn.
THINKING_SOUNDS = frozenset("um umm uh uhh er erm eh hmm mm ah".split())
#: Hesitations and backchannels as the recogniser writes them ("uh hmm" is folded to "uh-huh"):
#: sounds, never a name, so "uh huh" to "Who am I speaking with?" is asked again.
HESITATIONS = THINKING_SOUNDS | frozenset("uhm hm mmm mhm mhmm huh aha oh ooh".split())
# Words that follow "I'm" / "it's" / "this is" but are not names. Common first names that
# are also words (Will, May, Grace, Mark, Hope) are deliberately absent.
NAME_STOP = frozenset("""
a an the and or but so to of in on at for from with about by as is am are was were be been being
it its it's i i'm i'd i'll i've me my mine myself you you're your yours we we're our ours they them
their he she him her his hers this that that's these those there there's here here's what which who
whom whose when where why how not no nope nah yes yeah yep yup ya sure ok okay alright right correct
incorrect wrong fine good great well very really just also still only even too quite pretty calling
looking interested trying wondering hoping thinking going planning wanting ready back sorry glad
happy excited new done finished all any some none nothing something anything everything one ones
hi hello hey thanks thank please bye goodbye um uh uhm er erm hmm mm mhm oh ah like actually
basically currently probably maybe perhaps definitely absolutely certainly never always regarding
gonna wanna gotta got get have has had do does did can could would should shall might must
need want call calls phone number email mail name budget area house home place policy card address
street bedroom bedrooms bed today tomorrow tonight morning afternoon evening night week weekend
month year time available free busy open late early cool nice awesome perfect true false same
different possible curious confused unsure certain positive kidding serious able unable allowed
pleased reaching ringing following checking asking inquiring enquiring responding returning getting
doing having making taking moving selling buying renting renewing paying needing speaking talking
real actual last next other another over out up down off into onto through after before since
until while because if then than whether either neither both each every much many more most less
least few lot lots bit kind sort type way thing things stuff someone somebody anyone anybody
everyone everybody nobody person people agent human operator representative customer caller
interested afraid allergic available calling correct currently trying about again already
wait hold hang stop cancel confirm yes no maybe cheers bye later soon now then ever still dollar
dollars thousand million hundred k am pm noon midnight o'clock your's mine not don't doesn't isn't
can't won't wouldn't couldn't shouldn't didn't i'd we'd you'd they're it'll that'll what's who's
honestly seriously exactly totally super quite rather fairly almost nearly about approximately
looking calling interested home renewal payment insurance quote tour listing pre self non
approved preapproved retired married single divorced relocating local expensive cheap lovely
beautiful cold hot warm raining
""".split()) | HESITATIONS
FILLERS = frozenset("""
yes yeah yep yup sure ok okay alright right um uh uhm er erm hmm mm mhm oh ah hi hello hey well so
sorry it is it's that's my name name's the of course absolutely and
""".split()) | HESITATIONS
# What may precede a weak cue ("Hi, thanks for calling, this is Dana"): weak cues ("it's",
# "I'm", "this is") only introduce a name at the start of a turn, so "the house, it's
# expensive" never renames the caller.
LEADERS = FILLERS | frozenset("""
hi hello hey there good morning afternoon evening yes thanks thank you for calling oh yeah
""".split())
TRAILERS = frozenset({"thanks", "thank", "you", "please", "here", "speaking", "calling"})
