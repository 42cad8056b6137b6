"""``kratomwatch import-fhir --patient UUID BUNDLE.json [--apply]``: add an EHR's
medications, conditions, results and questionnaire responses to a patient's record.

Without ``--apply`` this is a dry run: it prints what would be added, what is already
present, what is not recognized (with suggestions) and what is skipped, and writes nothing.
An invalid bundle exits with status 2 and names every problem. So does a bundle whose
Patient is not shown to be the target patient (name, year of birth, KratomWatch id), unless
``--override-patient-check`` is given; the dry run prints its report and says so.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .db import add_db_arguments, fail, setup_django

_OUTCOME = {
    "add": ("would add", "added"),
    "present": ("already present", "already present"),
    "not_recognized": ("not recognized", "not recognized"),
    "skipped": ("skipped", "skipped"),
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "import-fhir",
        help="import medications, conditions, results and questionnaire responses from a "
        "FHIR Bundle (dry run by default)",
        description="Match the MedicationStatement, Condition and result Observation "
        "resources of a FHIR R4 Bundle (JSON) against the KratomWatch vocabularies, check "
        "QuestionnaireResponses to the KratomWatch questionnaires, and add the new ones to "
        "the patient's record. Dry run unless --apply is given; with --apply everything is "
        "added in one transaction.",
    )
    add_db_arguments(parser)
    parser.add_argument("bundle", metavar="BUNDLE.json", help="the FHIR Bundle to import")
    parser.add_argument("--patient", required=True, metavar="UUID", help="the patient's id")
    parser.add_argument("--apply", action="store_true", help="write the additions")
    parser.add_argument(
        "--override-patient-check",
        action="store_true",
        help="import even though the bundle's Patient does not match the patient (or cannot "
        "be compared with them); the override is recorded in the audit trail",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    setup_django(args)
    from django.db import DatabaseError

    from kratomwatch.interop import cli_support as cs
    from kratomwatch.interop.fhir_import import (
        BundleError,
        do_import_fhir,
        load_bundle_file,
        plan_import,
    )

    override = args.override_patient_check
    try:
        patient = cs.get_patient(args.patient)
        data = load_bundle_file(Path(args.bundle))
        if args.apply:
            report = do_import_fhir(patient, data, override_patient_check=override)
        else:
            report = plan_import(patient, data, override_patient_check=override)
    except (cs.NotFound, BundleError) as exc:
        return fail(str(exc))
    except DatabaseError as exc:
        return fail(cs.database_problem(exc))
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_report(report, patient_id=str(patient.uuid))
    check = report.patient_check
    if not check.ok and not check.overridden:  # a dry run: --apply would refuse it
        return fail(
            f"{check.describe()} --apply will refuse this bundle: check --patient, or pass "
            "--override-patient-check to import into this patient anyway."
        )
    return 0


def _print_report(report: Any, patient_id: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"FHIR import for patient {patient_id}")
    for column in ("entry", "kind", "in the bundle", "outcome", "KratomWatch"):
        table.add_column(column)
    for item in report.items:
        if item.outcome in ("add", "present"):
            note = f"{item.matched} ({item.code})"
            if item.reactivate:
                note += ", reactivated" if report.applied else ", reactivates it"
            if item.amends:
                note += ", amended: a new version of the response imported before"
        elif item.suggestions:
            note = "did you mean " + " or ".join(item.suggestions) + "?"
        else:
            note = item.reason
        if item.crisis:
            saved = "saved" if report.applied else "to be saved"
            note += f"; crisis answer {saved} as a red flag ({', '.join(item.crisis)})"
        table.add_row(
            str(item.entry),
            item.kind,
            item.text,
            _OUTCOME[item.outcome][1 if report.applied else 0],
            note,
        )
    console.print(table)
    console.print(report.patient_check.describe())
    counts = report.summary()
    ignored = sum(report.ignored.values())
    console.print(
        f"{counts['add']} {'added' if report.applied else 'to add'}, "
        f"{counts['present']} already present, {counts['not_recognized']} not recognized, "
        f"{counts['skipped']} skipped; {ignored} other resources ignored."
    )
    if report.applied:
        return
    if report.patient_check.ok or report.patient_check.overridden:
        console.print("Dry run: nothing was written. Run again with --apply to add them.")
    else:
        console.print(
            "Dry run: nothing was written. --apply will refuse this bundle unless "
            "--override-patient-check is given."
        )
