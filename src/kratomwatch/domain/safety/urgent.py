"""Urgent guidance for what a person reports now, before and whatever the rest of the record.

A red flag must always get through: when a check-in or questionnaire cannot be saved as a
whole (an unanswered scale, a bad dose), the red-flag symptoms in it are saved on their own
and their guidance is shown at once. The guidance comes from the same rules and the same
engine as a full screening, run on a record that holds only those reports, so the words shown
at once are the words the full screening stores.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ..findings import Finding
from .engine import screen
from .knowledge import Knowledge, load_knowledge
from .snapshot import Snapshot, SymptomReport


def urgent_findings(
    symptoms: Iterable[str], as_of: datetime, knowledge: Knowledge | None = None
) -> tuple[Finding, ...]:
    """The red-flag findings for ``symptoms`` (ids, labels or words people use), reported at
    ``as_of``. Unrecognized words give none; see the full screening for those."""
    kb = knowledge or load_knowledge()
    texts = []
    for text in symptoms:
        entry = kb.symptoms.get(text)
        texts.append(entry.label if entry is not None else text)
    if not texts:
        return ()
    snapshot = Snapshot(as_of=as_of, symptoms=tuple(SymptomReport(t, as_of, 3) for t in texts))
    return tuple(f for f in screen(snapshot, kb).findings if f.category == "red_flag")
