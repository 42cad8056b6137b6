"""Safety screening: rules as data, evaluated against a patient snapshot."""

from .engine import NotRecognized, ScreeningResult, WithoutConcern, screen
from .knowledge import Knowledge, KnowledgeError, Reference, Rule, load_knowledge
from .snapshot import (
    DoseTaken,
    LotUse,
    Medication,
    ProductUse,
    Response,
    Snapshot,
    SnapshotError,
    SymptomReport,
    snapshot_from_json,
)
from .urgent import urgent_findings

__all__ = [
    "DoseTaken",
    "Knowledge",
    "KnowledgeError",
    "Medication",
    "NotRecognized",
    "LotUse",
    "ProductUse",
    "Reference",
    "Response",
    "Rule",
    "ScreeningResult",
    "Snapshot",
    "SnapshotError",
    "SymptomReport",
    "load_knowledge",
    "screen",
    "snapshot_from_json",
    "urgent_findings",
    "WithoutConcern",
]
