"""The patient-facing texts of the data files, as a Python module that makemessages reads.

Knowledge-base rules (title and patient message of every rule that speaks to the patient),
symptom labels, the claims page, the project's own (not validated) questionnaires and the
clinical core's product and unit names are English data, not code: :func:`module_source`
writes each of them once as a ``gettext_noop`` entry in ``data_strings.py`` so that
``makemessages`` puts them in the catalogs; pages translate them when shown
(``{% translate value %}``); the clinical core's dose messages are translated by their
templates (:func:`dose_message`). Validated instruments are left out on purpose: they are never
translated here (docs/languages.md). ``kratomwatch-admin data_msgids`` (the management
command) rewrites the module; a test fails when it is out of date.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from django.utils.translation import gettext, ngettext

from kratomwatch.domain.conditions import CONDITION_LABELS, PHENOTYPE_LABELS
from kratomwatch.domain.dose_messages import EXPOSURE_WHAT, TEMPLATES
from kratomwatch.domain.doses import UNIT_LABELS, Confirmation, FieldError
from kratomwatch.domain.evidence import GRADE_LABELS, VERDICT_LABELS, load_library
from kratomwatch.domain.products import FORM_LABELS
from kratomwatch.domain.questionnaires import load_instruments
from kratomwatch.domain.results import load_lab_tests
from kratomwatch.domain.safety import load_knowledge

MODULE = Path(__file__).with_name("data_strings.py")

HEADER = '''"""Patient-facing texts of the data files, for the translation catalogs.

Written by ``data_msgids`` (kratomwatch.clinic.data_msgids) from the knowledge base, the
evidence library, the project's own questionnaires and the clinical core's labels and dose
messages: do not edit by hand.

About 550 lines: one entry for each text, all written at once by one command and read only
by makemessages.
"""

from django.utils.translation import gettext_noop as _

MSGIDS = [
'''


def _texts() -> Iterator[tuple[str, str]]:
    """(where, text) for every patient-facing text, in a stable order."""
    kb = load_knowledge()
    for rule in kb.rules:
        if rule.patient_message:
            yield f"rule {rule.id}", rule.title
            yield f"rule {rule.id}", rule.patient_message
    for symptom in kb.symptoms.values():
        yield f"symptom {symptom.id}", symptom.label
    for verdict, text in VERDICT_LABELS.items():
        yield f"verdict {verdict}", text
    for grade, text in GRADE_LABELS.items():  # shown to clinicians on the evidence pages
        yield f"evidence grade {grade}", text
    for condition, text in CONDITION_LABELS.items():  # the clinician's record and filters
        yield f"condition {condition.value}", text
    for phenotype, text in PHENOTYPE_LABELS.items():
        yield f"phenotype {phenotype.value}", text
    lab_tests = load_lab_tests()  # the clinician's results section and form
    for analyte in lab_tests.analytes.values():
        yield f"lab test {analyte.id}", analyte.label
    for screen_item in lab_tests.screen_items.values():
        yield f"drug-screen item {screen_item.id}", screen_item.label
    for claim in load_library().claims:
        yield f"claim {claim.id}", claim.claim
        yield f"claim {claim.id}", claim.what_the_evidence_says
    for instrument_id, instrument in sorted(load_instruments().items()):
        if instrument.validated:
            continue
        where = f"instrument {instrument_id}"
        for text in (instrument.title, instrument.short_title, instrument.instructions):
            if text:
                yield where, text
        for item in instrument.items:
            yield where, item.text
            for text in (item.min_label, item.max_label):
                if text:
                    yield where, text
            for option in item.options:
                yield where, option.label
    for form, text in FORM_LABELS.items():
        yield f"product form {form.value}", text
    for unit, text in UNIT_LABELS.items():
        yield f"unit {unit.value}", text
    # The dose checks' messages: their templates and the words filled into them.
    for kind, text in TEMPLATES.items():
        yield f"dose message {kind}", text
    for form, text in FORM_LABELS.items():
        yield f"product form {form.value}, as dose messages name it", text.lower()
    for name, text in EXPOSURE_WHAT.items():
        yield f"exposure {name}", text


def data_text(text: str) -> str:
    """A data file's text in the active language, from Python (templates use
    ``{% translate value %}``, which looks it up the same way)."""
    return gettext(text.replace("%", "%%")).replace("%%", "%")


def _counted(text: str) -> str:
    """ "3 capsules" or "at most 6 tablets" in the active language; g, mg and ml are symbols."""
    number, _, word = text.partition(" ")
    if word.rstrip("s") not in ("capsule", "tablet"):
        return text
    n = 1 if number == "1" else 2
    if word.startswith("capsule"):
        return ngettext("%(count)s capsule", "%(count)s capsules", n) % {"count": number}
    return ngettext("%(count)s tablet", "%(count)s tablets", n) % {"count": number}


def _or(text: str) -> str:
    first, *rest = text.split(" or ")
    for unit in rest:
        first = gettext("%(first)s or %(second)s") % {"first": first, "second": unit}
    return first


_PARAMS = {
    "quantity": _counted,
    "maximum": _counted,
    "form": data_text,
    "what": data_text,
    "units": data_text,
    "allowed": _or,
}


def dose_message(problem: FieldError | Confirmation) -> str:
    """A message of the clinical core's dose checks in the active language: its template
    translated, with the same values filled in (the words among them translated too)."""
    if not problem.template:
        return problem.message
    params = {name: _PARAMS.get(name, str)(value) for name, value in problem.params}
    return data_text(problem.template).format(**params)


def module_source() -> str:
    seen: set[str] = set()
    lines = [HEADER]
    for where, text in _texts():
        if text in seen:
            continue
        seen.add(text)
        # Templates look a variable up with its percent signs doubled ({% translate %}).
        lines.append(f"    # {where}\n    _({text.replace('%', '%%')!r}),\n")
    lines.append("]\n")
    return "".join(lines)


def write_module() -> bool:
    """Rewrite data_strings.py; True if it changed."""
    source = module_source()
    if MODULE.exists() and MODULE.read_text(encoding="utf-8") == source:
        return False
    MODULE.write_text(source, encoding="utf-8")
    return True
