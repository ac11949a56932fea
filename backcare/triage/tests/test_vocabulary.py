from backcare.clinical.red_flags import BOOLEAN_ITEMS
from backcare.triage.services import RESCREEN_CONDITIONS, RESCREEN_ITEMS
from backcare.triage.vocabulary import (
    LEVEL_LABELS,
    RESCREEN_QUESTIONS,
    TECHNIQUE_CODES,
    question_for,
    readable,
)


def test_the_rescreen_questions_ask_exactly_the_rescreen_items_and_conditions():
    fed = [feed for _, _, feeds in RESCREEN_QUESTIONS for feed in feeds]
    assert sorted(name for target, name in fed if target == "triage") == sorted(RESCREEN_ITEMS)
    assert sorted(name for target, name in fed if target == "ci") == sorted(RESCREEN_CONDITIONS)
    assert len(fed) == len(set(fed))


def test_every_rescreen_question_is_a_question_in_plain_words():
    for code, text, _ in RESCREEN_QUESTIONS:
        assert text.endswith("?"), code
        assert "_" not in text


def test_the_technique_vocabulary_is_that_of_rules_section_2_1():
    assert {
        "swedish",
        "deep_tissue",
        "myofascial_release",
        "trigger_point",
        "neuromuscular",
        "instrument_assisted",
        "cupping",
        "passive_stretching",
    } == TECHNIQUE_CODES


def test_every_action_level_has_words():
    assert set(LEVEL_LABELS) == {
        "proceed",
        "proceed_with_precautions",
        "refer_before_massage",
        "urgent_medical",
        "emergency",
        "incomplete",
    }


def test_codes_read_as_words_with_their_abbreviations():
    assert readable("known_aaa") == "Known AAA"
    assert readable("iv_drug_use") == "IV drug use"
    assert readable("lbp_onset_age") == "Age when the back pain started"
    assert readable("leg_left") == "Left leg"
    assert readable("deep_abdominal_work") == "Deep abdominal work"
    assert all("_" not in readable(item) for item in BOOLEAN_ITEMS)


def test_an_item_is_named_by_the_question_that_asks_it():
    assert question_for("fever") == question_for("fever_or_systemically_unwell")
    assert question_for("suspected_dvt").startswith("Do you have a swollen")
    assert question_for("history_of_cancer") == "History of cancer"
