"""The intake's steps as forms built from `questions.py`, plus the questionnaires, goals,
preferences and consent. Each step validates alone; the whole intake validates on submit."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.utils.choices import flatten_choices

from backcare.clinical.body import BODY_AREAS, body_map_groups
from backcare.clinical.instruments import (
    ANALGESIC_DAYS,
    PAIN_NRS,
    SLEEP,
    START_BACK_CONSTRUCTS,
    STRESS,
)
from backcare.core.forms import DomainErrorFormMixin
from backcare.core.widgets import BodyMapWidget
from backcare.intake.models import Intake
from backcare.intake.questions import (
    LIMB_OPTIONS,
    NO,
    NOT_SURE,
    QUESTIONS,
    REGION_OPTIONS,
    YES,
    Question,
    episode_phase,
)
from backcare.outcomes.queries import instrument_wording
from backcare.patients.models import PressurePreference, TherapistGenderPreference
from backcare.patients.queries import current_consent_texts


@dataclass(frozen=True)
class Step:
    code: str
    title: str
    intro: str


STEPS: tuple[Step, ...] = (
    Step("back", "Your back pain", "Tell us about the pain that brings you here."),
    Step(
        "safety",
        "Safety questions",
        "These questions check for rare but serious causes of back pain that need a doctor "
        "before massage. Answer each one; choose “I'm not sure” if you don't know.",
    ),
    Step("history", "Your health history", "Some conditions change what massage is safe."),
    Step(
        "conditions",
        "Other health conditions",
        "Answer yes only if it applies to you now (or recently, where the question says so).",
    ),
    Step(
        "questionnaires",
        "How your back affects you",
        "These answers are your starting point: we ask again later to show how you are doing.",
    ),
    Step("goals", "Your goals and preferences", "What you want from your massage."),
    Step("consent", "Consent and check", "Read and agree, then send your intake."),
)
STEP_CODES = tuple(step.code for step in STEPS)

TRI_CHOICES = ((YES, "Yes"), (NO, "No"), (NOT_SURE, "I'm not sure"))
YESNO_CHOICES = ((YES, "Yes"), (NO, "No"))
CAUSES = (
    ("muscle_strain", "A strained or pulled muscle"),
    ("disc_herniation", "A slipped (herniated) disc"),
    ("sciatica", "Sciatica (pain down the leg from a nerve)"),
    ("post_surgery", "After an operation"),
    ("unknown", "I don't know"),
    ("other", "Something else"),
)
NRS = [(str(n), str(n)) for n in range(11)]


class StepForm(DomainErrorFormMixin, forms.Form):
    """One step of the intake; fields are added by `step_form`."""

    groups: list[tuple[str, list[str]]]
    step: str = ""
    today: date

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        checks = {"conditions": check_conditions, "questionnaires": check_psfs}
        if self.step in checks:
            for name, message in checks[self.step](cleaned).items():
                self.add_error(name, message)
        started = cleaned.get("pain_started_on")
        if isinstance(started, date) and started > self.today:
            self.add_error("pain_started_on", "Give a date that is not in the future.")
        return cleaned

    def grouped(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in self.groups]


def _question_field(question: Question, *, today: date) -> forms.Field:
    required_message = {"required": _required_message(question)}
    match question.kind:
        case "tri":
            return forms.ChoiceField(
                choices=TRI_CHOICES, widget=forms.RadioSelect, error_messages=required_message
            )
        case "yesno":
            return forms.ChoiceField(
                choices=YESNO_CHOICES, widget=forms.RadioSelect, error_messages=required_message
            )
        case "onset":
            return forms.ChoiceField(
                choices=question.options, widget=forms.RadioSelect, error_messages=required_message
            )
        case "region":
            options = LIMB_OPTIONS if question.code.endswith("_limb") else REGION_OPTIONS
            return forms.ChoiceField(choices=[("", "Not applicable"), *options], required=False)
        case "regions" | "choices":
            options = REGION_OPTIONS if question.kind == "regions" else question.options
            return forms.MultipleChoiceField(
                choices=options, widget=forms.CheckboxSelectMultiple, required=False
            )
        case "weeks":
            high = 45 if question.code == "gestation_weeks" else 520
            return forms.IntegerField(min_value=0, max_value=high, required=False)
        case "number":
            return forms.IntegerField(
                min_value=question.low,
                max_value=question.high,
                required=question.required,
                error_messages=required_message,
            )
        case "date":
            return forms.DateField(
                widget=forms.DateInput(attrs={"type": "date", "max": today.isoformat()}),
                error_messages=required_message,
            )
    raise ValueError(question.kind)


def _required_message(question: Question) -> str:
    if question.kind == "tri":
        return "Choose yes, no or “I'm not sure”."
    if question.kind in {"yesno", "onset"}:
        return "Choose an answer."
    return "Answer this question."


def step_form(
    step: str,
    *,
    data: Mapping[str, Any] | None = None,
    initial: Mapping[str, Any] | None = None,
    today: date,
    wording: Mapping[str, Mapping[str, Any]] | None = None,
    consent_texts: Sequence[Any] = (),
) -> StepForm:
    """The form of intake step `step`, bound to `data` when given. `wording` holds loaded
    licensed questionnaire text by instrument (RMDQ, STarT Back): without it, those
    questionnaires are left for the clinic to collect on paper."""
    fields: dict[str, forms.Field] = {}
    groups: dict[str, list[str]] = {}
    for question in QUESTIONS:
        if question.step != step:
            continue
        field = _question_field(question, today=today)
        field.label = question.text
        field.help_text = question.help
        fields[question.code] = field
        groups.setdefault(question.group, []).append(question.code)
    extra = _EXTRA_FIELDS.get(step)
    if extra is not None:
        for title, extra_fields in extra(wording or {}, consent_texts):
            fields.update(extra_fields)
            groups.setdefault(title, []).extend(extra_fields)
    form_class = type("IntakeStepForm", (StepForm,), dict(fields))
    form = form_class(data=data, initial=initial, prefix=None)
    form.groups = list(groups.items())
    form.step = step
    form.today = today
    return form


def _back_fields(*_: Any) -> list[tuple[str, dict[str, forms.Field]]]:
    return [
        (
            "",
            {
                "visit_reason": forms.CharField(
                    label="What brings you to us?",
                    max_length=2000,
                    widget=forms.Textarea(attrs={"rows": 3}),
                    error_messages={"required": "Tell us briefly why you are coming."},
                ),
                "cause": forms.ChoiceField(
                    label="What caused your back pain, if you know?",
                    choices=CAUSES,
                    widget=forms.RadioSelect,
                    error_messages={"required": "Choose a cause, or “I don't know”."},
                ),
                "cause_other": forms.CharField(
                    label="If something else, what?", max_length=200, required=False
                ),
            },
        ),
        (
            "Where it hurts",
            {
                "pain_regions": forms.MultipleChoiceField(
                    label="Where do you feel the pain?",
                    choices=body_map_groups(),
                    widget=BodyMapWidget,
                    required=False,
                ),
                "pain_regions_note": forms.CharField(
                    label="Anywhere else, or more about where it hurts",
                    max_length=300,
                    required=False,
                ),
            },
        ),
    ]


def _history_fields(*_: Any) -> list[tuple[str, dict[str, forms.Field]]]:
    return [
        (
            "Medicines and other conditions",
            {
                "medications": forms.CharField(
                    label="Which medicines do you take, including painkillers?",
                    max_length=2000,
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 3}),
                ),
                "other_conditions": forms.CharField(
                    label="Any other health conditions we should know about?",
                    max_length=2000,
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 3}),
                ),
            },
        )
    ]


def _rating(label: str, *, required: bool = True) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=NRS,
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "scale"}),
        required=required,
        empty_value=None,
        error_messages={"required": "Choose a number from 0 to 10."},
    )


def _questionnaire_fields(
    wording: Mapping[str, Mapping[str, Any]], _: Any
) -> list[tuple[str, dict[str, forms.Field]]]:
    pain = {item.id: item.text or item.id for item in PAIN_NRS.items}
    groups: list[tuple[str, dict[str, forms.Field]]] = [
        (
            "Pain",
            {
                "pain_now": _rating(pain["now"]),
                "pain_average": _rating(pain["average"]),
                "pain_worst": _rating(
                    pain.get("worst", "Worst pain in the last week"), required=False
                ),
            },
        ),
        (
            "Stress, sleep and pain medicine",
            {
                "stress": _rating(STRESS.items[0].text or "Stress"),
                "sleep": _rating(SLEEP.items[0].text or "Sleep"),
                "analgesic_days": forms.IntegerField(
                    label=ANALGESIC_DAYS.items[0].text,
                    min_value=0,
                    max_value=7,
                    error_messages={"required": "Give a number of days from 0 to 7."},
                ),
            },
        ),
    ]
    psfs: dict[str, forms.Field] = {}
    for n in range(1, 4):
        psfs[f"psfs_activity_{n}"] = forms.CharField(
            label=f"Activity {n}",
            max_length=120,
            required=n == 1,
            error_messages={"required": "Name at least one activity your back makes hard."},
        )
        psfs[f"psfs_rating_{n}"] = _rating(
            f"How able are you to do activity {n} today? 0 = unable, 10 = as before",
            required=False,
        )
    groups.append(("Activities that are hard (Patient-Specific Functional Scale)", psfs))
    if rmdq := wording.get("rmdq"):
        groups.append(
            (
                "Roland-Morris Disability Questionnaire",
                {
                    f"rmdq_{item_id}": forms.BooleanField(label=row.text, required=False)
                    for item_id, row in sorted(rmdq.items())
                },
            )
        )
    if start := wording.get("start_back"):
        groups.append(("STarT Back Screening Tool", _start_back_fields(start)))
    return groups


def _start_back_fields(start: Mapping[str, Any]) -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for construct in START_BACK_CONSTRUCTS:
        row = start.get(construct)
        if row is None:
            continue
        if construct == "bothersomeness":
            values = ["not_at_all", "slightly", "moderately", "very_much", "extremely"]
        else:
            values = ["0", "1"]
        labels = list(row.options) if len(row.options) == len(values) else values
        fields[f"start_back_{construct}"] = forms.ChoiceField(
            label=row.text,
            choices=list(zip(values, labels, strict=True)),
            widget=forms.RadioSelect,
            error_messages={"required": "Choose an answer."},
        )
    return fields


def _goal_fields(*_: Any) -> list[tuple[str, dict[str, forms.Field]]]:
    return [
        (
            "Goals",
            {
                "goals": forms.CharField(
                    label="What would you like to be able to do again, or do better?",
                    max_length=2000,
                    widget=forms.Textarea(attrs={"rows": 3}),
                    error_messages={"required": "Tell us at least one goal."},
                )
            },
        ),
        (
            "Preferences",
            {
                "pressure": forms.TypedChoiceField(
                    label="Pressure preference",
                    choices=[("", "No preference"), *PressurePreference.choices],
                    coerce=int,
                    empty_value=None,
                    required=False,
                    widget=forms.RadioSelect,
                ),
                "avoid_areas": forms.MultipleChoiceField(
                    label="Areas not to be touched",
                    choices=[(a.code, a.label) for a in BODY_AREAS],
                    widget=forms.CheckboxSelectMultiple,
                    required=False,
                ),
                "therapist_gender": forms.ChoiceField(
                    label="Preferred therapist",
                    choices=TherapistGenderPreference.choices,
                    required=False,
                ),
                "language": forms.CharField(
                    label="Preferred language", max_length=60, required=False
                ),
                "preference_notes": forms.CharField(
                    label="Anything else your therapist should know",
                    max_length=2000,
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 3}),
                ),
            },
        ),
    ]


REQUIRED_CONSENTS = frozenset({"treatment", "privacy"})


def _consent_fields(_: Any, texts: Sequence[Any]) -> list[tuple[str, dict[str, forms.Field]]]:
    fields: dict[str, forms.Field] = {}
    for text in texts:
        required = text.kind in REQUIRED_CONSENTS
        fields[f"consent_{text.pk}"] = forms.BooleanField(
            label=f"I agree to “{text.title}” (version {text.version})",
            required=required,
            error_messages={"required": "We need this consent before your first session."},
        )
    fields["answers_true"] = forms.BooleanField(
        label="My answers are true to the best of my knowledge.",
        error_messages={"required": "Confirm your answers to send the intake."},
    )
    return [("Consent", fields)]


_EXTRA_FIELDS = {
    "back": _back_fields,
    "history": _history_fields,
    "questionnaires": _questionnaire_fields,
    "goals": _goal_fields,
    "consent": _consent_fields,
}


def check_conditions(cleaned: Mapping[str, Any]) -> dict[str, str]:
    """Errors for answers that need a companion answer (weeks with a fracture or operation)."""
    errors = {}
    for region, weeks, what in (
        ("recent_fracture_region", "weeks_since_fracture", "fracture"),
        ("recent_surgery_region", "weeks_since_surgery", "operation"),
    ):
        if cleaned.get(region) and cleaned.get(weeks) is None:
            errors[weeks] = f"Give how many weeks ago the {what} was."
        if cleaned.get(weeks) is not None and not cleaned.get(region):
            errors[region] = f"Choose where the {what} was."
    if cleaned.get("gestation_weeks") is not None and cleaned.get("pregnant") != YES:
        errors["pregnant"] = "Answer yes if you are pregnant, or clear the weeks."
    if cleaned.get("pregnant") == YES and cleaned.get("gestation_weeks") is None:
        errors["gestation_weeks"] = "Give how many weeks pregnant you are (your best guess)."
    return errors


def check_psfs(cleaned: Mapping[str, Any]) -> dict[str, str]:
    """Each named activity needs a rating, and each rating a named activity."""
    errors = {}
    for n in range(1, 4):
        named = bool(cleaned.get(f"psfs_activity_{n}"))
        rated = cleaned.get(f"psfs_rating_{n}") is not None
        if named and not rated:
            errors[f"psfs_rating_{n}"] = "Rate this activity from 0 to 10."
        if rated and not named:
            errors[f"psfs_activity_{n}"] = "Name the activity you rated."
    return errors


def answer_rows(form: StepForm, answers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(question, answer in words) for each field of the step, for reading an intake back."""
    rows = []
    for name, field in form.fields.items():
        value = answers.get(name)
        if value in (None, "", [], False):
            shown = "Not answered" if field.required else "—"
        elif value is True:
            shown = "Yes"
        else:
            choices = dict(flatten_choices(getattr(field, "choices", []) or []))
            values = value if isinstance(value, list) else [value]
            shown = "; ".join(str(choices.get(v, v)) for v in values)
        if name == "pain_started_on" and isinstance(value, str):
            shown += _phase(value, form.today)
        rows.append((str(field.label), shown))
    return rows


class DocumentForm(DomainErrorFormMixin, forms.Form):
    """A document attached to the intake; the service checks the file itself."""

    description = forms.CharField(
        label="What is this document?",
        max_length=200,
        help_text="For example: letter from my GP, MRI report.",
        error_messages={"required": "Say in a few words what the document is."},
    )
    document = forms.FileField(
        label="Document (PDF, JPEG or PNG)", required=False, allow_empty_file=True
    )


def _phase(started: str, today: date) -> str:
    try:
        return f" ({episode_phase(date.fromisoformat(started), today)})"
    except ValueError:
        return ""


def intake_form(intake: Intake, step: str, **kwargs: Any) -> StepForm:
    """The form of one step of `intake`, worded as the patient saw it (today's date at the
    clinic, the questionnaires' licensed wording, the clinic's current consent texts)."""
    wording = {
        code: instrument_wording(code, version)
        for code, version in (("rmdq", "RMDQ-24"), ("start_back", "STarT Back (Keele, 9 items)"))
    }
    return step_form(
        step,
        today=intake.patient.clinic.local_date(),
        wording={code: rows for code, rows in wording.items() if rows},
        consent_texts=current_consent_texts(intake.patient.clinic) if step == "consent" else (),
        **kwargs,
    )


def answer_sections(intake: Intake) -> list[tuple[Step, list[tuple[str, str]]]]:
    """Every answer of `intake`, step by step, as (question, answer in words): the read-back
    the patient and staff see."""
    return [(step, answer_rows(intake_form(intake, step.code), intake.answers)) for step in STEPS]
