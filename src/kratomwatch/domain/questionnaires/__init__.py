"""Questionnaire engine: versioned instrument files, exact scoring and change over time.

Typical use::

    from kratomwatch.domain.questionnaires import compare, get_instrument, score

    phq9 = get_instrument("phq9")
    result = score(phq9, [1, 2, 0, 1, 3, 0, 1, 0, 1])
    result.total, result.band, result.flags   # 9, "mild", ["suicidal_ideation"]

See docs/instruments.md for the shipped instruments and how a clinic adds its own.
"""

from kratomwatch.domain.questionnaires.change import NO_IMPORTANT_CHANGE, Change, compare
from kratomwatch.domain.questionnaires.loader import (
    ENV_VAR,
    build_instrument,
    clear_cache,
    get_instrument,
    instrument_schema,
    load_instrument_file,
    load_instruments,
    parse_instrument_text,
)
from kratomwatch.domain.questionnaires.model import (
    Band,
    ChangeRule,
    ChangeThreshold,
    ContextFlag,
    Instrument,
    InstrumentDefinitionError,
    InstrumentError,
    Item,
    Licence,
    MissingRule,
    Number,
    Option,
    Reference,
    SafetyRule,
    Score,
    Scoring,
    ScoringError,
    Subscale,
    UnknownInstrumentError,
)
from kratomwatch.domain.questionnaires.scoring import (
    Answers,
    safety_messages,
    score,
    urgent_symptoms,
    validate_answers,
)

__all__ = [
    "ENV_VAR",
    "NO_IMPORTANT_CHANGE",
    "Answers",
    "Band",
    "Change",
    "ChangeRule",
    "ChangeThreshold",
    "ContextFlag",
    "Instrument",
    "InstrumentDefinitionError",
    "InstrumentError",
    "Item",
    "Licence",
    "MissingRule",
    "Number",
    "Option",
    "Reference",
    "SafetyRule",
    "Score",
    "Scoring",
    "ScoringError",
    "Subscale",
    "UnknownInstrumentError",
    "build_instrument",
    "clear_cache",
    "compare",
    "get_instrument",
    "instrument_schema",
    "load_instrument_file",
    "load_instruments",
    "parse_instrument_text",
    "safety_messages",
    "score",
    "urgent_symptoms",
    "validate_answers",
]
