"""Outcome instruments: definitions as versioned data, and exact scoring (RULES.md §3, §4.1).

Every score is an exact `Fraction` (or int); rounding is for display only, half-up
(`numbers.half_up`); bands come from the unrounded value. Out-of-range or malformed input raises
`ClinicalInputError` naming the item; it is never clamped.

Item text: only instruments whose wording may be shipped carry it (NRS, stress, sleep, analgesic
use, PGIC, PSFS instructions: generic or free, with attribution). ODI 2.1a and STarT Back are
licensed (RULES.md §3.9): their definitions hold item ids and answer scales only, and a clinic
loads its licensed wording from a file (`manage.py load_instrument_text`). RMDQ and PEG wording is
also loaded rather than shipped until the rights holders confirm (RULES.md §3.9, §6.13). Staff can
always enter item scores from a paper form.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any

from backcare.clinical.errors import ClinicalInputError
from backcare.clinical.numbers import exact, whole


class Direction(StrEnum):
    """Which way of the scale is better for the patient."""

    LOWER_IS_BETTER = "lower_is_better"
    HIGHER_IS_BETTER = "higher_is_better"


class TextLicence(StrEnum):
    """Whether BackCare ships the item wording (RULES.md §3.9)."""

    SHIPPED = "shipped"  # generic or free wording, shipped with attribution
    LOADED = "loaded"  # licensed or unconfirmed wording: the clinic loads its own copy
    NONE = "none"  # a measurement taken by the therapist; no questionnaire text


@dataclass(frozen=True)
class Option:
    """One answer of a choice item: its stored value, its score and, where shipped, its label."""

    value: int | str
    score: int
    label: str | None = None


@dataclass(frozen=True)
class Item:
    """One question or measurement: its id, answer type and range or options, and text when
    the text may be shipped."""

    id: str
    kind: str  # "integer", "choice", "checkbox", "measure", "activity"
    low: int | None = None
    high: int | None = None
    options: tuple[Option, ...] = ()
    text: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Instrument:
    """An instrument as versioned data: items, answer types and ranges, direction of better,
    score range, and whether and under what terms its wording is shipped."""

    code: str
    name: str
    version: str
    direction: Direction
    score_low: Fraction
    score_high: Fraction
    items: tuple[Item, ...]
    text_licence: TextLicence
    attribution: str
    source: str
    licence_note: str = ""
    instructions: str | None = None

    def item(self, item_id: str) -> Item:
        """The item `item_id`; raises `ClinicalInputError("unknown_item")` otherwise."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise ClinicalInputError("unknown_item", f"{self.code}: no item {item_id!r}.", item=item_id)


@dataclass(frozen=True)
class Score:
    """The result of scoring one administration: the exact value (None when not scorable), the
    reason it is not, a band where the instrument defines one, per-instrument details, and the
    instrument version and policy that produced it."""

    instrument: str
    version: str
    value: Fraction | None
    valid: bool = True
    reason: str | None = None
    band: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    policy: Mapping[str, Any] = field(default_factory=dict)


# --- Definitions ---------------------------------------------------------------------------------

NRS_SOURCE = "Farrar JT et al. Pain 2001;94:149-58; Ostelo RWJG et al. Spine 2008;33:90-4"
GENERIC = "Generic 0-10 numeric rating scale; wording by BackCare (no owner)."


def _nrs_item(item_id: str, text: str) -> Item:
    return Item(item_id, "integer", 0, 10, text=text)


PAIN_NRS = Instrument(
    code="pain_nrs",
    name="Pain numeric rating scale (0-10)",
    version="NRS-11",
    direction=Direction.LOWER_IS_BETTER,
    score_low=Fraction(0),
    score_high=Fraction(10),
    items=(
        _nrs_item(
            "now", "How bad is your back pain right now? 0 = no pain, 10 = worst pain imaginable."
        ),
        _nrs_item(
            "average",
            "On average over the last week, how bad was your back pain? 0 = no pain, 10 = worst "
            "pain imaginable.",
        ),
        _nrs_item(
            "worst",
            "At its worst over the last week, how bad was your back pain? 0 = no pain, 10 = worst "
            "pain imaginable.",
        ),
    ),
    text_licence=TextLicence.SHIPPED,
    attribution=GENERIC,
    source=NRS_SOURCE,
)

ODI_SECTIONS = (
    "pain_intensity",
    "personal_care",
    "lifting",
    "walking",
    "sitting",
    "standing",
    "sleeping",
    "sex_life",
    "social_life",
    "travelling",
)
ODI = Instrument(
    code="odi",
    name="Oswestry Disability Index",
    version="ODI 2.1a",
    direction=Direction.LOWER_IS_BETTER,
    score_low=Fraction(0),
    score_high=Fraction(100),
    items=tuple(
        Item(s, "choice", 0, 5, options=tuple(Option(i, i) for i in range(6))) for s in ODI_SECTIONS
    ),
    text_licence=TextLicence.LOADED,
    attribution="Oswestry Disability Index 2.1a © Jeremy Fairbank; distributed by Mapi Research "
    "Trust (ePROVIDE).",
    source="Fairbank JCT, Pynsent PB. Spine 2000;25:2940-52. doi:10.1097/00007632-200011150-00017",
    licence_note="Item text is licensed by Mapi Research Trust; BackCare ships the scoring only. "
    "Load the licensed wording with manage.py load_instrument_text.",
)

RMDQ = Instrument(
    code="rmdq",
    name="Roland-Morris Disability Questionnaire (24 items)",
    version="RMDQ-24",
    direction=Direction.LOWER_IS_BETTER,
    score_low=Fraction(0),
    score_high=Fraction(24),
    items=tuple(Item(f"item_{n:02d}", "checkbox") for n in range(1, 25)),
    text_licence=TextLicence.LOADED,
    attribution="Roland M, Morris R. Spine 1983; Roland M, Fairbank J. Spine 2000.",
    source="Roland M, Morris R. Spine 1983;8:141-4. doi:10.1097/00007632-198303000-00004; "
    "Roland M, Fairbank J. Spine 2000;25:3115-24. doi:10.1097/00007632-200012150-00006",
    licence_note="The original English wording may be free when reproduced as in Spine 2000; not "
    "bundled until the rights holder confirms (RULES.md §3.9). Load it with load_instrument_text.",
)

START_BACK_CONSTRUCTS = (
    "referred_leg_pain",
    "shoulder_neck_pain",
    "walking",
    "dressing",
    "fear",
    "anxiety",
    "catastrophising",
    "low_mood",
    "bothersomeness",
)
START_BACK_PSYCHOSOCIAL = ("fear", "anxiety", "catastrophising", "low_mood", "bothersomeness")
BOTHERSOME = (
    Option("not_at_all", 0),
    Option("slightly", 0),
    Option("moderately", 0),
    Option("very_much", 1),
    Option("extremely", 1),
)
START_BACK = Instrument(
    code="start_back",
    name="STarT Back Screening Tool",
    version="STarT Back (Keele, 9 items)",
    direction=Direction.LOWER_IS_BETTER,
    score_low=Fraction(0),
    score_high=Fraction(9),
    items=(
        *(
            Item(c, "choice", options=(Option(0, 0), Option(1, 1)))
            for c in START_BACK_CONSTRUCTS[:-1]
        ),
        Item("bothersomeness", "choice", options=BOTHERSOME),
    ),
    text_licence=TextLicence.LOADED,
    attribution="STarT Back Screening Tool © 2007 Keele University; funded by Arthritis Research "
    "UK. Used unmodified with the copyright and funding statement.",
    source="Hill JC et al. Arthritis Rheum 2008;59:632-41. doi:10.1002/art.23563",
    licence_note="Keele licenses the wording for non-commercial use only; it is not placed under "
    "BackCare's licence. Load it as a separate content pack.",
)

PSFS = Instrument(
    code="psfs",
    name="Patient-Specific Functional Scale",
    version="PSFS (Stratford 1995, 0 = unable, 10 = as before)",
    direction=Direction.HIGHER_IS_BETTER,
    score_low=Fraction(0),
    score_high=Fraction(10),
    items=tuple(Item(f"activity_{n}", "activity", 0, 10) for n in range(1, 6)),
    text_licence=TextLicence.SHIPPED,
    attribution="Stratford P et al. Physiother Can 1995;47:258-63 (instructions paraphrased).",
    source="Stratford P, Gill C, Westaway M, Binkley J. Physiother Can 1995;47:258-63",
    instructions="Name up to five important activities that your back problem makes hard or "
    "impossible. For each, rate how able you are today: 0 = unable to do it, 10 = able to do it "
    "as well as before your back problem.",
)

PEG = Instrument(
    code="peg",
    name="PEG (pain, enjoyment of life, general activity)",
    version="PEG-3",
    direction=Direction.LOWER_IS_BETTER,
    score_low=Fraction(0),
    score_high=Fraction(10),
    items=(
        Item("pain", "integer", 0, 10),
        Item("enjoyment", "integer", 0, 10),
        Item("general_activity", "integer", 0, 10),
    ),
    text_licence=TextLicence.LOADED,
    attribution="Krebs EE et al. J Gen Intern Med 2009 (items from the Brief Pain Inventory, "
    "© Charles S. Cleeland).",
    source="Krebs EE et al. J Gen Intern Med 2009;24:733-8. doi:10.1007/s11606-009-0981-1",
    licence_note="Licence status of the BPI-derived wording unverified (RULES.md §3.9).",
)

PGIC_OPTIONS = (
    Option(1, 1, "Very much improved"),
    Option(2, 2, "Much improved"),
    Option(3, 3, "Minimally improved"),
    Option(4, 4, "No change"),
    Option(5, 5, "Minimally worse"),
    Option(6, 6, "Much worse"),
    Option(7, 7, "Very much worse"),
)
PGIC = Instrument(
    code="pgic",
    name="Patient global impression of change",
    version="PGIC-7",
    direction=Direction.LOWER_IS_BETTER,
    score_low=Fraction(1),
    score_high=Fraction(7),
    items=(
        Item(
            "change",
            "choice",
            1,
            7,
            options=PGIC_OPTIONS,
            text="Since you started treatment, how would you describe the change in your back "
            "pain?",
        ),
    ),
    text_licence=TextLicence.SHIPPED,
    attribution="After Guy W. ECDEU Assessment Manual (CGI-Improvement), US DHEW 1976; "
    "public domain. Wording by BackCare.",
    source="Guy W (ed). ECDEU Assessment Manual for Psychopharmacology. 1976: 217-22",
)


def _single_rating(code: str, name: str, item_id: str, text: str) -> Instrument:
    """A one-item 0-10 rating where lower is better, with our own wording."""
    return Instrument(
        code=code,
        name=name,
        version=f"NRS-11 {item_id}",
        direction=Direction.LOWER_IS_BETTER,
        score_low=Fraction(0),
        score_high=Fraction(10),
        items=(_nrs_item(item_id, text),),
        text_licence=TextLicence.SHIPPED,
        attribution=GENERIC,
        source="Single-item 0-10 rating (project decision; no MCID established)",
    )


STRESS = _single_rating(
    "stress_nrs",
    "Stress (0-10)",
    "stress",
    "Over the last week, how stressed have you felt? 0 = not at all, 10 = extremely.",
)
SLEEP = _single_rating(
    "sleep_nrs",
    "Sleep disturbance (0-10)",
    "sleep",
    "Over the last week, how much has back pain disturbed your sleep? 0 = not at all, "
    "10 = completely.",
)

ANALGESIC_DAYS = Instrument(
    code="analgesic_days",
    name="Pain medicine use (days per week)",
    version="Analgesic days-7",
    direction=Direction.LOWER_IS_BETTER,
    score_low=Fraction(0),
    score_high=Fraction(7),
    items=(
        Item(
            "days",
            "integer",
            0,
            7,
            text="On how many of the last 7 days did you take medicine for your back pain?",
            unit="days",
        ),
    ),
    text_licence=TextLicence.SHIPPED,
    attribution="Wording by BackCare (no owner).",
    source="Project decision (change in analgesic use is reported, no threshold)",
)

SCHOBER = Instrument(
    code="schober",
    name="Modified Schober (lumbar flexion excursion)",
    version="Modified Schober (Macrae & Wright 1969), 15 cm span",
    direction=Direction.HIGHER_IS_BETTER,
    score_low=Fraction(0),
    score_high=Fraction(20),
    items=(Item("flexed_span_cm", "measure", 15, 35, unit="cm"),),
    text_licence=TextLicence.NONE,
    attribution="Macrae IF, Wright V. Ann Rheum Dis 1969;28:584-9.",
    source="Robinson HS, Mengshoel AM. Spine 2014;39:E270-5 (SDC 1.8 cm)",
    instructions="Mark the lumbosacral junction, 10 cm above and 5 cm below (15 cm). Measure the "
    "span in maximal forward flexion with knees straight. Excursion = span - 15 cm.",
)

FINGERTIP_FLOOR = Instrument(
    code="fingertip_floor",
    name="Fingertip-to-floor distance",
    version="FTF (cm, negative past floor level)",
    direction=Direction.LOWER_IS_BETTER,
    score_low=Fraction(-30),
    score_high=Fraction(80),
    items=(Item("distance_cm", "measure", -30, 80, unit="cm"),),
    text_licence=TextLicence.NONE,
    attribution="Standard clinical measure.",
    source="Robinson HS, Mengshoel AM. Spine 2014;39:E270-5 (SDC 9.8 cm)",
    instructions="Maximal forward bend with knees straight; distance from the tip of the middle "
    "finger to the floor. Negative when the fingertips pass floor level on a step.",
)

INSTRUMENTS: Mapping[str, Instrument] = {
    i.code: i
    for i in (
        PAIN_NRS,
        ODI,
        RMDQ,
        START_BACK,
        PSFS,
        PEG,
        PGIC,
        STRESS,
        SLEEP,
        ANALGESIC_DAYS,
        SCHOBER,
        FINGERTIP_FLOOR,
    )
}


def get_instrument(code: str) -> Instrument:
    """The definition for `code`; raises `ClinicalInputError("unknown_instrument")` otherwise."""
    try:
        return INSTRUMENTS[str(code)]
    except KeyError:
        known = ", ".join(sorted(INSTRUMENTS))
        raise ClinicalInputError(
            "unknown_instrument", f"No instrument {code!r}; use {known}."
        ) from None


# --- Scoring -------------------------------------------------------------------------------------

ODI_BANDS = (
    (Fraction(20), "minimal"),
    (Fraction(40), "moderate"),
    (Fraction(60), "severe"),
    (Fraction(80), "very_severe"),
)
ODI_BAND_LABELS = {
    "minimal": "Minimal disability (0-20)",
    "moderate": "Moderate disability (21-40)",
    "severe": "Severe disability (41-60)",
    "very_severe": "Very severe disability (61-80)",
    "bed_bound": "Bed-bound or symptoms exaggerated (81-100)",
}


def odi_band(percent: Fraction) -> str:
    """Fairbank's band for an exact ODI percent: <= 20, <= 40, <= 60, <= 80, > 80 (RULES.md
    §3.1). Band on the unrounded value."""
    return next((name for limit, name in ODI_BANDS if percent <= limit), "bed_bound")


def odi_percent(raw_total: int, answered: int) -> Fraction:
    """100 x total / (5 x answered sections): the denominator drops 5 per unanswered section."""
    if answered <= 0:
        raise ClinicalInputError("too_many_missing", "ODI: no section answered.", item="sections")
    return Fraction(100 * raw_total, 5 * answered)


def score_odi(sections: Sequence[object], *, max_missing: int = 1) -> Score:
    """Score ODI 2.1a from its 10 sections in form order.

    Each section is an int 0-5, None (unanswered) or a list of ints (several statements marked:
    the highest counts, Fairbank). With more than `max_missing` (1 by default, 2 allowed)
    unanswered sections the score is not valid (reason "too_many_missing"). Raises
    `ClinicalInputError` "wrong_number_of_sections" unless exactly 10 entries are given, and
    "value_out_of_range" for a value outside 0-5. Source: Fairbank & Pynsent 2000; RULES.md §3.1.
    """
    if max_missing not in (0, 1, 2):
        raise ClinicalInputError(
            "value_out_of_range", "ODI: max_missing must be 0, 1 or 2.", item="max_missing"
        )
    if not isinstance(sections, list | tuple) or len(sections) != len(ODI_SECTIONS):
        raise ClinicalInputError(
            "wrong_number_of_sections",
            f"ODI: expected {len(ODI_SECTIONS)} sections in form order (None for unanswered), "
            f"got {len(sections) if isinstance(sections, list | tuple) else sections!r}.",
            item="sections",
        )
    values = [_odi_section(name, value) for name, value in zip(ODI_SECTIONS, sections, strict=True)]
    answered = [v for v in values if v is not None]
    policy = {"max_missing": max_missing}
    details: dict[str, Any] = {"answered": len(answered), "sections": values}
    if len(values) - len(answered) > max_missing:
        return Score(
            ODI.code, ODI.version, None, False, "too_many_missing", details=details, policy=policy
        )
    raw_total = sum(answered)
    percent = odi_percent(raw_total, len(answered))
    details |= {"raw_total": raw_total, "max_possible": 5 * len(answered)}
    return Score(
        ODI.code, ODI.version, percent, band=odi_band(percent), details=details, policy=policy
    )


def _odi_section(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        marks = [whole(v, item=name, low=0, high=5) for v in value]
        return max(marks) if marks else None
    return whole(value, item=name, low=0, high=5)


def score_rmdq(ticked_items: Sequence[object]) -> Score:
    """RMDQ-24: the number of statements ticked (0-24). An item marked not applicable is simply
    not ticked. Raises "item_out_of_range" for item numbers outside 1-24 and "duplicate_item"
    for an item ticked twice. Source: Roland & Morris 1983; RULES.md §3.2."""
    if not isinstance(ticked_items, list | tuple):
        raise ClinicalInputError(
            "not_a_list", "RMDQ: give the ticked item numbers as a list.", item="ticked_items"
        )
    numbers = []
    for value in ticked_items:
        try:
            numbers.append(whole(value, item="ticked_items", low=1, high=24))
        except ClinicalInputError as error:
            if error.code == "value_out_of_range":
                raise ClinicalInputError(
                    "item_out_of_range",
                    f"RMDQ: item {value} does not exist; items are 1-24.",
                    item="ticked_items",
                ) from None
            raise
    if len(set(numbers)) != len(numbers):
        raise ClinicalInputError(
            "duplicate_item", "RMDQ: an item is ticked twice.", item="ticked_items"
        )
    return Score(
        RMDQ.code, RMDQ.version, Fraction(len(numbers)), details={"ticked": sorted(numbers)}
    )


def score_start_back(items: Mapping[str, object]) -> Score:
    """STarT Back: total (0-9) and psychosocial subscale (0-5, constructs fear, anxiety,
    catastrophising, low mood, bothersomeness), keyed by construct (or q1-q9 in Keele form
    order). Items 1-8 are 0 (disagree) or 1 (agree); item 9 is one of not_at_all, slightly,
    moderately, very_much, extremely (only the last two score 1). Risk: total <= 3 low; else
    psychosocial >= 4 high; else medium. Any unanswered item: not valid ("missing_item",
    project rule). Source: Hill 2008; RULES.md §3.3."""
    if not isinstance(items, Mapping):
        raise ClinicalInputError(
            "not_a_mapping", "STarT Back: give item: answer pairs.", item="items"
        )
    answers = _start_back_by_construct(items)
    scores = {c: _start_back_item(c, v) for c, v in answers.items() if v is not None}
    missing = [c for c in START_BACK_CONSTRUCTS if c not in scores]
    if missing:
        return Score(
            START_BACK.code,
            START_BACK.version,
            None,
            False,
            "missing_item",
            details={"missing": missing},
        )
    total = sum(scores.values())
    psychosocial = sum(scores[c] for c in START_BACK_PSYCHOSOCIAL)
    risk = "low" if total <= 3 else "high" if psychosocial >= 4 else "medium"
    return Score(
        START_BACK.code,
        START_BACK.version,
        Fraction(total),
        band=risk,
        details={"total": total, "psychosocial": psychosocial, "risk": risk},
    )


def _start_back_by_construct(items: Mapping[str, object]) -> dict[str, object]:
    by_position = {f"q{n}": c for n, c in enumerate(START_BACK_CONSTRUCTS, start=1)}
    answers: dict[str, object] = {}
    for key, value in items.items():
        construct = by_position.get(key, key)
        if construct not in START_BACK_CONSTRUCTS:
            raise ClinicalInputError("unknown_item", f"STarT Back: no item {key!r}.", item=key)
        answers[construct] = value
    return answers


def _start_back_item(construct: str, value: object) -> int:
    if construct == "bothersomeness":
        for option in BOTHERSOME:
            if value == option.value:
                return option.score
        raise ClinicalInputError(
            "value_out_of_range",
            "STarT Back bothersomeness: answer not_at_all, slightly, moderately, very_much or "
            "extremely.",
            item=construct,
        )
    return whole(value, item=construct, low=0, high=1)


def score_psfs(ratings: Sequence[object]) -> Score:
    """PSFS: the mean of 1-5 activity ratings, each a whole number 0 (unable) to 10 (able as
    before); higher is better. Raises for an empty list, more than 5 or a rating outside 0-10.
    Source: Stratford 1995; RULES.md §3.5."""
    if not isinstance(ratings, list | tuple) or not 1 <= len(ratings) <= 5:
        raise ClinicalInputError(
            "wrong_number_of_items", "PSFS: rate between 1 and 5 activities.", item="activities"
        )
    values = [
        whole(v, item=f"activity_{n}", low=0, high=10) for n, v in enumerate(ratings, start=1)
    ]
    return Score(
        PSFS.code, PSFS.version, Fraction(sum(values), len(values)), details={"ratings": values}
    )


def score_peg(*, pain: object, enjoyment: object, general_activity: object) -> Score:
    """PEG: the mean of three 0-10 items (pain, interference with enjoyment of life, with
    general activity). Source: Krebs 2009; RULES.md §3.6 (no severity bands are used)."""
    values = [
        whole(pain, item="pain", low=0, high=10),
        whole(enjoyment, item="enjoyment", low=0, high=10),
        whole(general_activity, item="general_activity", low=0, high=10),
    ]
    return Score(PEG.code, PEG.version, Fraction(sum(values), 3), details={"items": values})


def score_pain_nrs(*, now: object = None, average: object = None, worst: object = None) -> Score:
    """Pain NRS 0-10 (whole numbers) for now, average and worst; at least one must be given.
    The score is the first given of now, average, worst; each item is kept in `details`.
    Raises "non_integer" for 4.5 and "value_out_of_range" outside 0-10. Source: Farrar 2001."""
    given = {
        name: whole(value, item=name, low=0, high=10)
        for name, value in (("now", now), ("average", average), ("worst", worst))
        if value is not None
    }
    if not given:
        raise ClinicalInputError("missing_item", "Pain NRS: give at least one rating.", item="now")
    primary = next(iter(given.values()))
    return Score(PAIN_NRS.code, PAIN_NRS.version, Fraction(primary), details=given)


def score_single(code: str, value: object) -> Score:
    """One-item instruments: stress_nrs and sleep_nrs (0-10), analgesic_days (0-7), pgic (1-7).
    Raises for another code or a value outside the item's range."""
    instrument = get_instrument(code)
    if len(instrument.items) != 1 or instrument.items[0].kind not in {"integer", "choice"}:
        raise ClinicalInputError("unknown_instrument", f"{code} is not a one-item scale.")
    item = instrument.items[0]
    assert item.low is not None
    assert item.high is not None
    number = whole(value, item=item.id, low=item.low, high=item.high)
    band = None
    if code == "pgic":
        band = "improved" if number <= 3 else "unchanged" if number == 4 else "worse"
    return Score(instrument.code, instrument.version, Fraction(number), band=band)


def score_schober(flexed_span_cm: object) -> Score:
    """Modified Schober: excursion = flexed span - 15 cm (the 15 cm marked span), from a span
    of 15-35 cm measured to the millimetre. Normal is conventionally >= 5 cm. Source: Macrae &
    Wright 1969; Robinson & Mengshoel 2014 (SDC 1.8 cm); RULES.md §4.1."""
    span = _measure(flexed_span_cm, item="flexed_span_cm", low=15, high=35)
    excursion = span - 15
    band = "normal" if excursion >= 5 else "reduced"
    return Score(
        SCHOBER.code, SCHOBER.version, excursion, band=band, details={"flexed_span_cm": span}
    )


def score_fingertip_floor(distance_cm: object) -> Score:
    """Fingertip-to-floor distance in cm, -30 to 80, negative past floor level; no normal
    value (compare with the patient's baseline; SDC 9.8 cm). Source: Robinson & Mengshoel 2014."""
    distance = _measure(distance_cm, item="distance_cm", low=-30, high=80)
    return Score(FINGERTIP_FLOOR.code, FINGERTIP_FLOOR.version, distance)


def _measure(value: object, *, item: str, low: int, high: int) -> Fraction:
    number = exact(value, item=item)
    if (number * 10).denominator != 1:
        raise ClinicalInputError(
            "too_precise", f"{item}: record to the millimetre (0.1 cm).", item=item
        )
    if not low <= number <= high:
        raise ClinicalInputError(
            "value_out_of_range", f"{item}: {value} is outside {low} to {high} cm.", item=item
        )
    return number


def score(code: str, answers: Mapping[str, Any], *, odi_max_missing: int = 1) -> Score:
    """Score one administration of instrument `code` from its answers, as stored:

    odi {"sections": [...]}, rmdq {"ticked_items": [...]}, start_back {construct or q1-q9: ...},
    psfs {"ratings": [...]}, peg {"pain", "enjoyment", "general_activity"}, pain_nrs {"now",
    "average", "worst"}, stress_nrs {"stress"}, sleep_nrs {"sleep"}, analgesic_days {"days"},
    pgic {"change"}, schober {"flexed_span_cm"}, fingertip_floor {"distance_cm"}.
    Raises `ClinicalInputError` for an unknown code, missing keys or bad values.
    """
    instrument = get_instrument(code)
    try:
        match code:
            case "odi":
                return score_odi(answers["sections"], max_missing=odi_max_missing)
            case "rmdq":
                return score_rmdq(answers["ticked_items"])
            case "start_back":
                return score_start_back(answers)
            case "psfs":
                return score_psfs(answers["ratings"])
            case "peg":
                return score_peg(
                    **{k: answers[k] for k in ("pain", "enjoyment", "general_activity")}
                )
            case "pain_nrs":
                return score_pain_nrs(**{k: answers.get(k) for k in ("now", "average", "worst")})
            case "schober":
                return score_schober(answers["flexed_span_cm"])
            case "fingertip_floor":
                return score_fingertip_floor(answers["distance_cm"])
            case _:
                return score_single(code, answers[instrument.items[0].id])
    except KeyError as missing:
        raise ClinicalInputError(
            "missing_item",
            f"{code}: the answer {missing.args[0]!r} is missing.",
            item=str(missing.args[0]),
        ) from None
