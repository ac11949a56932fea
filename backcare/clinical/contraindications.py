"""Massage contraindications and precautions: RULES.md §2.

For each condition the client reports, the rules say whether massage is postponed, needs a
clinician's clearance, or proceeds with precautions (a pressure cap on the 0-5 Walton scale,
excluded techniques, regions to avoid, positioning). Sources disagree widely (Batavia 2004), so
every number is a ⚙ default of `ContraindicationSettings` that a clinic may change; `describe()`
lists each with its default and source so that pages can show which values are defaults.

Several conditions combine: the most restrictive massage decision and most urgent medical advice
win, pressure caps take the lowest value, exclusions and regions add up. When the session is
postponed, no region or technique detail is reported: nothing is given.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum

from backcare.clinical.body import CLINICAL_REGION_CODES, SPINAL_REGIONS
from backcare.clinical.errors import ClinicalInputError

RULES_VERSION = "backcare-contraindications-1 (RULES.md §2)"


class Massage(StrEnum):
    """Whether the session goes ahead, least to most restrictive."""

    PROCEED = "proceed"
    PROCEED_WITH_PRECAUTIONS = "proceed_with_precautions"
    POSTPONE = "postpone"


class Medical(StrEnum):
    """What medical contact a condition calls for, least to most urgent."""

    NONE = "none"
    NONE_UNLESS_RED_FLAG = "none_unless_red_flag"
    GP_REVIEW = "gp_review"
    URGENT_MEDICAL = "urgent_medical"
    EMERGENCY = "emergency"


_MASSAGE_ORDER = [Massage.PROCEED, Massage.PROCEED_WITH_PRECAUTIONS, Massage.POSTPONE]
_MEDICAL_ORDER = list(Medical)

# Techniques and elements the rules restrict (RULES.md §2.1-2.2 vocabulary).
TAPOTEMENT = "tapotement"
SPINAL_MOBILISATION = "spinal_mobilisation"
DEEP_TISSUE = "deep_tissue"
TRIGGER_POINT = "trigger_point"
CUPPING = "cupping"
INSTRUMENT_ASSISTED = "instrument_assisted"
DEEP_ABDOMINAL = "deep_abdominal_work"


@dataclass(frozen=True)
class ContraindicationSettings:
    """The ⚙ numbers of RULES.md §2.2. Pressure levels are on the Walton scale 0-5."""

    anticoagulant_max_pressure: int = 3
    osteoporosis_max_pressure: int = 3
    severe_osteoporosis_max_pressure: int = 2
    cancer_max_pressure_without_oncologist: int = 3
    unknown_primary_max_pressure: int = 2
    bone_metastasis_max_pressure: int = 1
    lymphoedema_limb_max_pressure: int = 2
    varicose_max_pressure: int = 2
    neuropathy_max_pressure: int = 2
    pregnancy_leg_max_pressure: int = 2
    dvt_limb_max_pressure: int = 0
    fracture_weeks: int = 6
    surgery_weeks: int = 6
    pregnancy_positioning_weeks: int = 20


DEFAULT_SETTINGS = ContraindicationSettings()

SETTING_SOURCES = {
    "anticoagulant_max_pressure": "NCCIH (avoid forceful and deep tissue massage); "
    "level 3 is a project default",
    "osteoporosis_max_pressure": "NCCIH (weakened bones); level 3 is a project default",
    "severe_osteoporosis_max_pressure": "Project default",
    "cancer_max_pressure_without_oncologist": "Walton cancer guidelines; project default",
    "unknown_primary_max_pressure": "Walton cancer guidelines (levels 1-2)",
    "bone_metastasis_max_pressure": "Walton (when in doubt, pressure level 1 max)",
    "lymphoedema_limb_max_pressure": "Walton (gentle pressure on that limb, lifelong)",
    "varicose_max_pressure": "Common lists (no deep pressure over varicose veins)",
    "neuropathy_max_pressure": "Project default (reduce pressure where sensation is lost)",
    "pregnancy_leg_max_pressure": "Mueller & Grunwald 2021 (no deep pressure on the legs)",
    "dvt_limb_max_pressure": "Walton (affected limb: level 0 only)",
    "fracture_weeks": "NCCIH (fractures); about 6 weeks to union is a project default",
    "surgery_weeks": "NCCIH (recent surgery); about 6 weeks is a project default",
    "pregnancy_positioning_weeks": "Aortocaval compression after about 20 weeks (project default)",
}


@dataclass(frozen=True)
class ContraindicationAnswers:
    """What the client reports, in RULES.md §2.2 terms. Regions use `body.CLINICAL_REGIONS`
    codes. Leave a condition False or empty when it does not apply."""

    suspected_dvt: bool = False
    dvt_chest_pain_or_breathless: bool = False
    diagnosed_dvt_on_treatment: bool = False
    dvt_limb: str | None = None
    anticoagulant_or_bleeding_disorder: bool = False
    fever: bool = False
    skin_lesion_regions: frozenset[str] = frozenset()
    recent_fracture_region: str | None = None
    weeks_since_fracture: int | None = None
    recent_surgery_region: str | None = None
    weeks_since_surgery: int | None = None
    osteoporosis: bool = False
    severe_osteoporosis: bool = False
    active_cancer: bool = False
    oncologist_approved_deep_pressure: bool = False
    unknown_primary: bool = False
    bone_metastasis: bool = False
    tumour_region: str | None = None
    irradiated_regions: frozenset[str] = frozenset()
    lymphoedema_limb: str | None = None
    pregnant: bool = False
    gestation_weeks: int | None = None
    vaginal_bleeding: bool = False
    fluid_leak: bool = False
    severe_headache_or_visual_change: bool = False
    sudden_oedema: bool = False
    calf_pain_or_swelling: bool = False
    reduced_fetal_movement: bool = False
    disc_herniation_with_radiculopathy: bool = False
    known_aaa: bool = False
    new_or_changed_pain: bool = False
    collapse_or_faintness: bool = False
    pulsatile_abdominal_mass: bool = False
    varicose_vein_regions: frozenset[str] = frozenset()
    uncontrolled_hypertension: bool = False
    unstable_cardiac_disease: bool = False
    neuropathy_regions: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type is bool and not isinstance(value, bool):
                raise ClinicalInputError(
                    "not_a_boolean", f"{f.name}: answer yes (True) or no (False).", item=f.name
                )
        for name in (
            "dvt_limb",
            "recent_fracture_region",
            "recent_surgery_region",
            "tumour_region",
            "lymphoedema_limb",
        ):
            _check_region(name, getattr(self, name))
        for name in REGION_SETS:
            for region in _region_set(name, getattr(self, name)):
                _check_region(name, region)
        for name, high in (
            ("weeks_since_fracture", 520),
            ("weeks_since_surgery", 520),
            ("gestation_weeks", 45),
        ):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high
            ):
                raise ClinicalInputError(
                    "value_out_of_range",
                    f"{name}: expected whole weeks from 0 to {high}.",
                    item=name,
                )
        if self.recent_fracture_region and self.weeks_since_fracture is None:
            raise ClinicalInputError(
                "missing_item",
                "weeks_since_fracture: needed with recent_fracture_region.",
                item="weeks_since_fracture",
            )
        if self.recent_surgery_region and self.weeks_since_surgery is None:
            raise ClinicalInputError(
                "missing_item",
                "weeks_since_surgery: needed with recent_surgery_region.",
                item="weeks_since_surgery",
            )

    @classmethod
    def from_mapping(cls, answers: Mapping[str, object]) -> "ContraindicationAnswers":
        """Build from the RULES.md §8 vector form (keys left out do not apply). Unknown keys
        are an error; lists of regions become sets."""
        if not isinstance(answers, Mapping):
            raise ClinicalInputError("not_a_mapping", "Give the conditions as name: value pairs.")
        known = {f.name for f in fields(cls)}
        stray = sorted(set(answers) - known)
        if stray:
            raise ClinicalInputError(
                "unknown_item", f"Unknown conditions: {', '.join(stray)}.", item=stray[0]
            )
        values = dict(answers)
        for name in REGION_SETS:
            if name in values:
                values[name] = _region_set(name, values[name])
        return cls(**values)  # type: ignore[arg-type]


REGION_SETS = (
    "skin_lesion_regions",
    "irradiated_regions",
    "varicose_vein_regions",
    "neuropathy_regions",
)


def _region_set(item: str, value: object) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise ClinicalInputError("not_a_list", f"{item}: give a list of regions.", item=item)
    if not all(isinstance(region, str) for region in value):
        raise ClinicalInputError("unknown_region", f"{item}: regions are region codes.", item=item)
    return frozenset(value)


def _check_region(item: str, region: object) -> None:
    if region is not None and region not in CLINICAL_REGION_CODES:
        raise ClinicalInputError(
            "unknown_region",
            f"{item}: {region!r} is not a body region; use one of "
            f"{', '.join(sorted(CLINICAL_REGION_CODES))}.",
            item=item,
        )


@dataclass(frozen=True)
class Restriction:
    """What one condition asks for. Empty fields ask nothing."""

    condition: str
    title: str
    massage: Massage
    source: str
    medical: Medical = Medical.NONE
    max_pressure: int | None = None
    excluded_techniques: frozenset[str] = frozenset()
    avoid_regions: frozenset[str] = frozenset()
    regional_caps: tuple[tuple[str, int], ...] = ()
    positions: frozenset[str] = frozenset()
    clearance: str | None = None
    note: str = ""


@dataclass(frozen=True)
class ContraindicationResult:
    """The combined decision: massage (postpone / proceed with precautions / proceed), medical
    advice, clearances needed, a global pressure cap, pressure caps per region, techniques
    excluded, regions to avoid, allowed positions, and the conditions that applied."""

    massage: Massage
    medical: Medical
    clearance_required: tuple[str, ...]
    max_pressure_level: int | None
    regional_pressure_caps: tuple[tuple[str, int], ...]
    excluded_techniques: tuple[str, ...]
    region_restrictions: tuple[str, ...]
    positions: tuple[str, ...]
    restrictions: tuple[Restriction, ...]
    rules_version: str
    settings: ContraindicationSettings = field(default=DEFAULT_SETTINGS)

    @property
    def conditions(self) -> tuple[str, ...]:
        """Sorted IDs of the conditions that applied (e.g. CI-OSTEOPOROSIS)."""
        return tuple(sorted(r.condition for r in self.restrictions))


def assess(
    answers: ContraindicationAnswers, settings: ContraindicationSettings = DEFAULT_SETTINGS
) -> ContraindicationResult:
    """Apply the condition table of RULES.md §2.2 to `answers` and combine the restrictions.

    Result fields as in `ContraindicationResult`; with no condition, massage proceeds and every
    list is empty. Raises nothing: `answers` validated itself when it was built.
    """
    restrictions = tuple(_restrictions(answers, settings))
    massage = max(
        (r.massage for r in restrictions), key=_MASSAGE_ORDER.index, default=Massage.PROCEED
    )
    medical = max((r.medical for r in restrictions), key=_MEDICAL_ORDER.index, default=Medical.NONE)
    postponed = massage == Massage.POSTPONE
    caps = [r.max_pressure for r in restrictions if r.max_pressure is not None]
    regional: dict[str, int] = {}
    for r in restrictions:
        for region, level in r.regional_caps:
            regional[region] = min(level, regional.get(region, level))
    return ContraindicationResult(
        massage=massage,
        medical=medical,
        clearance_required=tuple(sorted({r.clearance for r in restrictions if r.clearance})),
        max_pressure_level=None if postponed or not caps else min(caps),
        regional_pressure_caps=() if postponed else tuple(sorted(regional.items())),
        excluded_techniques=()
        if postponed
        else _union(r.excluded_techniques for r in restrictions),
        region_restrictions=() if postponed else _union(r.avoid_regions for r in restrictions),
        positions=() if postponed else _positions(restrictions),
        restrictions=restrictions,
        rules_version=RULES_VERSION,
        settings=settings,
    )


def _union(sets: Iterable[frozenset[str]]) -> tuple[str, ...]:
    return tuple(sorted(set().union(*sets)))


def _positions(restrictions: Iterable[Restriction]) -> tuple[str, ...]:
    allowed = [r.positions for r in restrictions if r.positions]
    return tuple(sorted(frozenset.intersection(*allowed))) if allowed else ()


def _legs() -> frozenset[str]:
    return frozenset({"leg_left", "leg_right"})


def _restrictions(a: ContraindicationAnswers, s: ContraindicationSettings) -> Iterable[Restriction]:
    yield from _vascular(a, s)
    yield from _systemic(a)
    yield from _local(a, s)
    yield from _bone_and_cancer(a, s)
    yield from _pregnancy(a, s)
    yield from _other(a, s)


def _vascular(a: ContraindicationAnswers, s: ContraindicationSettings) -> Iterable[Restriction]:
    if a.suspected_dvt:
        yield Restriction(
            "CI-DVT-SUSPECTED",
            "Suspected deep vein thrombosis",
            Massage.POSTPONE,
            "NCCIH (no massage in any area with blood clots); Ernst 2003 (PE after massage)",
            medical=Medical.EMERGENCY if a.dvt_chest_pain_or_breathless else Medical.URGENT_MEDICAL,
            note="Unilateral leg swelling, pain, warmth or redness: no massage; same-day medical "
            "assessment, emergency with chest pain or breathlessness (possible PE).",
        )
    if a.diagnosed_dvt_on_treatment:
        limb = frozenset({a.dvt_limb}) if a.dvt_limb else _legs()
        yield Restriction(
            "CI-DVT-TREATED",
            "Diagnosed DVT on treatment",
            Massage.PROCEED_WITH_PRECAUTIONS,
            "Walton (DVT precautions persist at least 6 months after treatment)",
            regional_caps=tuple((region, s.dvt_limb_max_pressure) for region in sorted(limb)),
            clearance="physician",
            note="Affected limb at the lowest pressure only; anticoagulant precautions apply "
            "elsewhere.",
        )
    if a.anticoagulant_or_bleeding_disorder or a.diagnosed_dvt_on_treatment:
        yield Restriction(
            "CI-ANTICOAGULANT",
            "Anticoagulants, antiplatelets or a bleeding disorder",
            Massage.PROCEED_WITH_PRECAUTIONS,
            "NCCIH (avoid forceful and deep tissue massage)",
            max_pressure=s.anticoagulant_max_pressure,
            excluded_techniques=frozenset(
                {DEEP_TISSUE, TRIGGER_POINT, TAPOTEMENT, CUPPING, INSTRUMENT_ASSISTED}
            ),
            note="Ask about bruising after each session.",
        )


def _systemic(a: ContraindicationAnswers) -> Iterable[Restriction]:
    if a.fever:
        yield Restriction(
            "CI-FEVER",
            "Fever or acute systemic infection",
            Massage.POSTPONE,
            "Multiple lists; triage RF-INF-1 applies if back pain",
            medical=Medical.NONE_UNLESS_RED_FLAG,
            note="Postpone the session until well.",
        )
    if a.uncontrolled_hypertension or a.unstable_cardiac_disease:
        yield Restriction(
            "CI-CARDIOVASCULAR",
            "Uncontrolled hypertension or unstable cardiac disease",
            Massage.POSTPONE,
            "Common lists (e.g. Ascension self-care guidance)",
            medical=Medical.GP_REVIEW,
        )


def _local(a: ContraindicationAnswers, s: ContraindicationSettings) -> Iterable[Restriction]:
    if a.skin_lesion_regions:
        yield Restriction(
            "CI-SKIN",
            "Skin infection, wound, burn or rash",
            Massage.PROCEED_WITH_PRECAUTIONS,
            "NCCIH",
            avoid_regions=a.skin_lesion_regions,
        )
    if (
        a.recent_fracture_region
        and a.weeks_since_fracture is not None
        and a.weeks_since_fracture <= s.fracture_weeks
    ):
        spinal = a.recent_fracture_region in SPINAL_REGIONS
        yield Restriction(
            "CI-FRACTURE",
            "Recent fracture",
            Massage.PROCEED_WITH_PRECAUTIONS,
            "NCCIH (fractures)",
            avoid_regions=frozenset({a.recent_fracture_region}),
            clearance="physician" if spinal else None,
            note="No pressure or joint movement over the site until union or clearance.",
        )
    if (
        a.recent_surgery_region
        and a.weeks_since_surgery is not None
        and a.weeks_since_surgery <= s.surgery_weeks
    ):
        yield Restriction(
            "CI-SURGERY",
            "Recent surgery",
            Massage.PROCEED_WITH_PRECAUTIONS,
            "NCCIH",
            avoid_regions=frozenset({a.recent_surgery_region}),
            clearance="surgeon",
            note="No work on or near the site until healed and cleared by the surgeon.",
        )
    if a.varicose_vein_regions:
        yield Restriction(
            "CI-VARICOSE",
            "Varicose veins or phlebitis",
            Massage.PROCEED_WITH_PRECAUTIONS,
            "Common lists",
            avoid_regions=a.varicose_vein_regions,
            regional_caps=tuple(
                (r, s.varicose_max_pressure) for r in sorted(a.varicose_vein_regions)
            ),
        )
    if a.neuropathy_regions:
        yield Restriction(
            "CI-NEUROPATHY",
            "Peripheral neuropathy or insensate skin",
            Massage.PROCEED_WITH_PRECAUTIONS,
            "Project default",
            regional_caps=tuple(
                (r, s.neuropathy_max_pressure) for r in sorted(a.neuropathy_regions)
            ),
        )
    if a.lymphoedema_limb:
        yield Restriction(
            "CI-LYMPHOEDEMA",
            "Lymphoedema or lymph-node dissection limb",
            Massage.PROCEED_WITH_PRECAUTIONS,
            "Walton",
            regional_caps=((a.lymphoedema_limb, s.lymphoedema_limb_max_pressure),),
            note="Gentle pressure only on that limb, lifelong.",
        )


def _bone_and_cancer(
    a: ContraindicationAnswers, s: ContraindicationSettings
) -> Iterable[Restriction]:
    if a.osteoporosis or a.severe_osteoporosis:
        yield Restriction(
            "CI-OSTEOPOROSIS",
            "Osteoporosis without fracture",
            Massage.PROCEED_WITH_PRECAUTIONS,
            "NCCIH (weakened bones, osteoporosis)",
            max_pressure=s.severe_osteoporosis_max_pressure
            if a.severe_osteoporosis
            else s.osteoporosis_max_pressure,
            excluded_techniques=frozenset({TAPOTEMENT, SPINAL_MOBILISATION}),
            note="No percussion, no heavy pressure over the spine or ribs, no spinal mobilisation.",
        )
    if a.active_cancer:
        levels = [
            s.cancer_max_pressure_without_oncologist
            if not a.oncologist_approved_deep_pressure
            else 5
        ]
        if a.unknown_primary:
            levels.append(s.unknown_primary_max_pressure)
        if a.bone_metastasis:
            levels.append(s.bone_metastasis_max_pressure)
        avoid = set(a.irradiated_regions) | ({a.tumour_region} if a.tumour_region else set())
        yield Restriction(
            "CI-CANCER",
            "Active cancer or cancer treatment",
            Massage.PROCEED_WITH_PRECAUTIONS,
            "NCCIH; Walton cancer guidelines",
            max_pressure=min(levels),
            avoid_regions=frozenset(avoid),
            clearance="oncologist",
            note="No pressure over a tumour; avoid irradiated skin; deep pressure only with the "
            "oncologist's approval.",
        )


def _pregnancy(a: ContraindicationAnswers, s: ContraindicationSettings) -> Iterable[Restriction]:
    warning = (
        a.vaginal_bleeding
        or a.fluid_leak
        or a.severe_headache_or_visual_change
        or a.sudden_oedema
        or a.calf_pain_or_swelling
        or a.reduced_fetal_movement
    )
    if warning:  # the signs themselves postpone (calf pain is also a DVT sign), flag or not
        yield Restriction(
            "CI-PREGNANCY-WARNING",
            "Pregnancy warning sign",
            Massage.POSTPONE,
            "Common practice lists (project decision)",
            medical=Medical.URGENT_MEDICAL,
            note="Stop; same-day obstetric or medical assessment.",
        )
    if a.pregnant:
        late = a.gestation_weeks is not None and a.gestation_weeks >= s.pregnancy_positioning_weeks
        yield Restriction(
            "CI-PREGNANCY",
            "Pregnancy",
            Massage.PROCEED_WITH_PRECAUTIONS,
            "Mueller & Grunwald 2021 (J Clin Med 10:3485); NCCIH",
            excluded_techniques=frozenset({DEEP_ABDOMINAL}),
            regional_caps=tuple((r, s.pregnancy_leg_max_pressure) for r in sorted(_legs())),
            positions=frozenset({"side_lying", "seated"}) if late else frozenset(),
            note="No deep pressure on the legs (clot risk), no deep abdominal work; side-lying or "
            "seated later in pregnancy.",
        )


def _other(a: ContraindicationAnswers, s: ContraindicationSettings) -> Iterable[Restriction]:
    if a.disc_herniation_with_radiculopathy:
        yield Restriction(
            "CI-RADICULOPATHY",
            "Herniated disc with radiculopathy",
            Massage.PROCEED_WITH_PRECAUTIONS,
            "NICE NG59 1.2.7 (with exercise); KNGF 2021 advises against massage in radicular "
            "syndrome",
            note="Avoid positions and sustained compression (e.g. gluteal, piriformis) that "
            "reproduce "
            "or spread leg symptoms; stop if symptoms peripheralise or weakness appears.",
        )
    acute = a.collapse_or_faintness or (a.known_aaa and a.new_or_changed_pain)
    if a.pulsatile_abdominal_mass or acute:
        yield Restriction(
            "CI-AAA-EMERGENCY",
            "Possible acute aortic problem (pulsatile mass, collapse, known AAA with new pain)",
            Massage.POSTPONE,
            "BMJ Best Practice AAA; triage RF-AAA-1",
            medical=Medical.EMERGENCY,
        )
    elif a.known_aaa:
        yield Restriction(
            "CI-AAA",
            "Known abdominal aortic aneurysm",
            Massage.PROCEED_WITH_PRECAUTIONS,
            "Project decision (RF-AAA-2)",
            excluded_techniques=frozenset({DEEP_ABDOMINAL}),
            avoid_regions=frozenset({"abdominal"}),
            note="No deep abdominal or iliopsoas work; stop if a pulse is felt.",
        )


def settings_with(**changes: int) -> ContraindicationSettings:
    """Default settings with a clinic's overrides. Pressure caps must be 0-5 and week counts
    0-52; raises `ClinicalInputError` naming the setting otherwise."""
    known = {f.name for f in fields(ContraindicationSettings)}
    for name, value in changes.items():
        if name not in known:
            raise ClinicalInputError(
                "unknown_item", f"Unknown contraindication setting {name}.", item=name
            )
        high = 5 if name.endswith("_pressure") else 52
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            raise ClinicalInputError(
                "value_out_of_range",
                f"{name}: expected a whole number from 0 to {high}.",
                item=name,
            )
    return replace(DEFAULT_SETTINGS, **changes)


def describe(
    settings: ContraindicationSettings = DEFAULT_SETTINGS,
) -> list[tuple[str, int, int, str]]:
    """(name, value in use, default, source) for every setting, so pages show which are defaults."""
    return [
        (
            f.name,
            getattr(settings, f.name),
            getattr(DEFAULT_SETTINGS, f.name),
            SETTING_SOURCES[f.name],
        )
        for f in fields(ContraindicationSettings)
    ]


# --- Checking planned or recorded work against the limits ---------------------------------------


@dataclass(frozen=True)
class TreatmentLimits:
    """The limits treatment must keep: the contraindication result combined with the
    restrictions of clearances in force. Empty limits ask nothing."""

    max_pressure_level: int | None = None
    regional_pressure_caps: Mapping[str, int] = field(default_factory=dict)
    excluded_techniques: frozenset[str] = frozenset()
    avoid_regions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Work:
    """One piece of planned or applied work: a technique on regions at a pressure level."""

    technique: str
    regions: frozenset[str]
    pressure_level: int


@dataclass(frozen=True)
class WorkProblem:
    """Why the work breaks a limit. Only an excluded technique may go ahead, and only when the
    therapist acknowledges the precaution with a reason; a pressure above a cap and a region to
    avoid are refused (RULES.md §2: the cap and the regions are what the rules ask)."""

    kind: str  # "excluded_technique", "avoid_region" or "pressure_cap"
    message: str

    @property
    def acknowledgeable(self) -> bool:
        """True when a therapist's acknowledged reason lets the work go ahead."""
        return self.kind == "excluded_technique"


def check_work(work: Work, limits: TreatmentLimits) -> tuple[WorkProblem, ...]:
    """The limits `work` breaks, most serious first (regions, pressure, technique); empty when
    it keeps them all. Raises `ClinicalInputError` for a pressure level outside 1-5."""
    if not isinstance(work.pressure_level, int) or not 1 <= work.pressure_level <= 5:
        raise ClinicalInputError(
            "pressure_out_of_range", "Pressure level must be a whole number from 1 to 5."
        )
    problems: list[WorkProblem] = []
    avoided = sorted(work.regions & limits.avoid_regions)
    if avoided:
        problems.append(
            WorkProblem("avoid_region", f"The screening says to avoid {', '.join(avoided)}.")
        )
    caps = [limits.max_pressure_level] if limits.max_pressure_level is not None else []
    caps += [
        level for region, level in limits.regional_pressure_caps.items() if region in work.regions
    ]
    if caps and work.pressure_level > min(caps):
        problems.append(
            WorkProblem(
                "pressure_cap",
                f"Pressure level {work.pressure_level} is above the cap of {min(caps)} for this "
                f"patient; choose level {min(caps)} or lower.",
            )
        )
    if work.technique in limits.excluded_techniques:
        problems.append(
            WorkProblem(
                "excluded_technique",
                f"The screening excludes {work.technique.replace('_', ' ')} for this patient.",
            )
        )
    return tuple(problems)
