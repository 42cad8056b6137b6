"""Personal analyses of a patient's own diary: observational dose-response and N-of-1 trials.

Pure Python with numpy and scipy (no Django). Bayesian, closed form (no sampling): see
``docs/analysis.md``. Observational results are associations, not causation; nothing here
recommends a dose.
"""

from .bayes import RHO_GRID, Mixture, Prewhitened, Prior, Summary
from .dose_response import (
    MIN_DAYS,
    MIN_DOSE_SPREAD,
    DayRecord,
    DiaryAnalysis,
    DiaryError,
    DoseBand,
    DoseResponseResult,
    DoseUnit,
    ModelComparison,
    SideEffectResult,
    analyse_diary,
    analyse_dose_response,
    analyse_side_effects,
    validate_days,
)
from .nof1 import (
    MIN_DAYS_PER_ARM,
    Adherence,
    Arm,
    ScheduledDay,
    TrialObservation,
    TrialPeriod,
    TrialResult,
    TrialSchedule,
    analyse_trial,
    design_trial,
)

__all__ = [
    "MIN_DAYS",
    "MIN_DAYS_PER_ARM",
    "MIN_DOSE_SPREAD",
    "RHO_GRID",
    "Adherence",
    "Arm",
    "DayRecord",
    "DiaryAnalysis",
    "DiaryError",
    "DoseBand",
    "DoseResponseResult",
    "DoseUnit",
    "Mixture",
    "ModelComparison",
    "Prewhitened",
    "Prior",
    "ScheduledDay",
    "SideEffectResult",
    "Summary",
    "TrialObservation",
    "TrialPeriod",
    "TrialResult",
    "TrialSchedule",
    "analyse_diary",
    "analyse_dose_response",
    "analyse_side_effects",
    "analyse_trial",
    "design_trial",
    "validate_days",
]
