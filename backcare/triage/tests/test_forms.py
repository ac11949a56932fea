from backcare.triage.forms import ClearanceForm, ReferralLetterForm, RescreenForm
from backcare.triage.vocabulary import RESCREEN_QUESTIONS


def answers(**chosen: str) -> dict[str, str]:
    data = {code: "no" for code, _, _ in RESCREEN_QUESTIONS}
    data.update(chosen)
    return data


def test_not_sure_is_kept_as_unanswered_and_never_as_no():
    form = RescreenForm(answers(saddle_numbness="not_sure", suspected_dvt="yes"))
    assert form.is_valid()
    items, conditions = form.rule_inputs()
    assert items["saddle_numbness"] is None
    assert items["bowel_incontinence"] is False
    assert conditions["suspected_dvt"] is True


def test_the_fever_question_feeds_the_red_flag_and_the_contraindication():
    form = RescreenForm(answers(fever_or_systemically_unwell="not_sure"))
    assert form.is_valid()
    items, conditions = form.rule_inputs()
    assert items["fever_or_systemically_unwell"] is None
    assert conditions["fever"] is None


def test_every_question_needs_an_answer():
    data = answers()
    del data["saddle_numbness"]
    form = RescreenForm(data)
    assert not form.is_valid()
    assert form.errors["saddle_numbness"] == ["Choose yes, no or not sure."]


def test_the_letter_form_offers_the_referrer_only_when_there_is_one():
    assert "send_to_referrer" in ReferralLetterForm(referrer_name="Dr R").fields
    without = ReferralLetterForm()
    assert "send_to_referrer" not in without.fields
    assert without.fields["recipient_name"].required


def test_the_clearance_form_reads_an_empty_pressure_limit_as_none_and_refuses_unknown_ones():
    base = {"clinician_name": "Dr A", "clinician_role": "GP", "cleared_on": "2026-01-02"}
    form = ClearanceForm({**base, "max_pressure_level": ""})
    assert form.is_valid()
    assert form.cleaned_data["max_pressure_level"] is None
    assert not ClearanceForm({**base, "max_pressure_level": "6"}).is_valid()
    assert not ClearanceForm({**base, "excluded_techniques": ["reiki"]}).is_valid()
