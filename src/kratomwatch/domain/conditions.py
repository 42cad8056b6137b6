"""Coded patient conditions and pharmacogenomic phenotypes used across the clinical core."""

from __future__ import annotations

from enum import StrEnum


class ConditionCode(StrEnum):
    LOW_BACK_PAIN = "low_back_pain"
    NEUROPATHIC_PAIN = "neuropathic_pain"
    FIBROMYALGIA = "fibromyalgia"
    OTHER_PAIN = "other_pain"
    PREGNANCY = "pregnancy"
    BREASTFEEDING = "breastfeeding"
    LIVER_DISEASE = "liver_disease"
    ARRHYTHMIA_LONG_QT = "arrhythmia_long_qt"
    SEIZURE_DISORDER = "seizure_disorder"
    SUD_HISTORY = "sud_history"
    SUD_IN_TREATMENT = "sud_in_treatment"
    PSYCHIATRIC = "psychiatric"
    RESPIRATORY = "respiratory_disease"


PAIN_CONDITIONS = frozenset(
    {
        ConditionCode.LOW_BACK_PAIN,
        ConditionCode.NEUROPATHIC_PAIN,
        ConditionCode.FIBROMYALGIA,
        ConditionCode.OTHER_PAIN,
    }
)

CONDITION_LABELS: dict[ConditionCode, str] = {
    ConditionCode.LOW_BACK_PAIN: "Chronic low back pain",
    ConditionCode.NEUROPATHIC_PAIN: "Neuropathic pain",
    ConditionCode.FIBROMYALGIA: "Fibromyalgia",
    ConditionCode.OTHER_PAIN: "Other chronic pain",
    ConditionCode.PREGNANCY: "Pregnancy",
    ConditionCode.BREASTFEEDING: "Breastfeeding",
    ConditionCode.LIVER_DISEASE: "Liver disease",
    ConditionCode.ARRHYTHMIA_LONG_QT: "Cardiac arrhythmia or long QT",
    ConditionCode.SEIZURE_DISORDER: "Seizure disorder",
    ConditionCode.SUD_HISTORY: "History of substance use disorder",
    ConditionCode.SUD_IN_TREATMENT: "Substance use disorder, in treatment",
    ConditionCode.PSYCHIATRIC: "Psychiatric condition",
    ConditionCode.RESPIRATORY: "Chronic lung disease or sleep apnoea",
}


class Gene(StrEnum):
    CYP2D6 = "CYP2D6"
    CYP3A4 = "CYP3A4"
    CYP3A5 = "CYP3A5"
    CYP2C9 = "CYP2C9"
    CYP2C19 = "CYP2C19"


class Phenotype(StrEnum):
    POOR = "poor"
    INTERMEDIATE = "intermediate"
    NORMAL = "normal"
    RAPID = "rapid"
    ULTRARAPID = "ultrarapid"
    INDETERMINATE = "indeterminate"


PHENOTYPE_LABELS: dict[Phenotype, str] = {
    Phenotype.POOR: "Poor metabolizer",
    Phenotype.INTERMEDIATE: "Intermediate metabolizer",
    Phenotype.NORMAL: "Normal metabolizer",
    Phenotype.RAPID: "Rapid metabolizer",
    Phenotype.ULTRARAPID: "Ultrarapid metabolizer",
    Phenotype.INDETERMINATE: "Indeterminate",
}
