"""``kratomwatch export-csv``: a patient's or a clinic's records as CSV files, one per kind.

Writes patients.csv, doses.csv, daily_ratings.csv, questionnaire_scores.csv, symptoms.csv
and findings.csv into ``--out DIR``. The columns are documented in
docs/interoperability.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .db import add_db_arguments, fail, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "export-csv",
        help="export a patient's or a clinic's records as CSV files",
        description="Write one CSV file per kind of record (doses, daily ratings, "
        "questionnaire scores, symptoms, findings, patients) into a directory. Times are "
        "ISO 8601 with their UTC offset; units are explicit.",
    )
    add_db_arguments(parser)
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--patient", metavar="UUID", help="the patient's public id")
    who.add_argument("--clinic", metavar="SLUG", help="the clinic's slug")
    parser.add_argument("--out", required=True, metavar="DIR", help="directory to write to")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    setup_django(args)
    from django.db import DatabaseError

    from kratomwatch.interop import cli_support as cs
    from kratomwatch.interop.csv_export import export_csv
    from kratomwatch.interop.fhir_export import clinic_patients

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        return fail(f"--out {args.out} is a file: give a directory")
    try:
        if args.patient:
            patients = [cs.get_patient(args.patient)]
            what = f"patient {patients[0].uuid}"
        else:
            clinic = cs.get_clinic(args.clinic)
            patients = clinic_patients(clinic)
            what = f"clinic {clinic.slug} ({len(patients)} patients)"
        with cs.progress("Exporting patients", len(patients)) as advance:
            counts = export_csv(patients, out, on_patient=lambda _: advance())
    except cs.NotFound as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot write {args.out}: {exc.strerror}")
    except DatabaseError as exc:
        return fail(cs.database_problem(exc))
    print(f"Wrote the records of {what} to {out}:")
    for kind, count in counts.items():
        print(f"  {kind}.csv  {count} rows")
    return 0
