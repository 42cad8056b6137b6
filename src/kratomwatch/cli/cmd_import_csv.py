"""``kratomwatch import-csv``: a patient's diary, or a whole clinic's CSV export.

``import-csv --patient UUID --product NAME FILE.csv`` imports a diary.

Each row may hold one dose of the named product and/or one daily pain check-in. Columns
are found by field name or mapped with ``--map field=Column``. Every row is checked first;
any error is reported as "row N, column C: ..." and nothing is written. Dry run unless
``--apply`` is given; then all rows are written in one transaction. Importing the same rows
again adds nothing.

``import-csv --clinic SLUG DIRECTORY`` recreates the patients of an ``export-csv --clinic``
export in an empty clinic (:func:`kratomwatch.interop.csv_clinic.import_clinic_csv`): every
file is checked first and nothing is written unless all of it is valid; without ``--apply``
the import runs in a transaction that is rolled back, so the summary is exact and nothing stays.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .db import add_db_arguments, fail, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "import-csv",
        help="import a patient's diary, or a clinic's CSV export (dry run by default)",
        description="Import doses of one product and daily pain check-ins from a CSV file. "
        "Fields: taken_at; amount and unit, or dose_g, dose_mg, dose_capsule, dose_tablet, "
        "dose_ml; preparation; pain_now, pain_average, interference_activity, "
        "interference_enjoyment, sleep_quality. Example: --map 'taken_at=Date,dose_g=Dose (g)'. "
        "With --clinic SLUG, FILE is the directory an 'export-csv --clinic' wrote, and its "
        "patients are recreated in that clinic, which must have none.",
    )
    add_db_arguments(parser)
    parser.add_argument(
        "file",
        metavar="FILE.csv",
        help="the diary (UTF-8 CSV, header row), or with --clinic the export's directory",
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--patient", metavar="UUID", help="the patient whose diary it is")
    who.add_argument("--clinic", metavar="SLUG", help="the empty clinic to import an export into")
    parser.add_argument("--product", metavar="NAME", help="the patient's product the doses are of")
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN,...",
        help="which column holds which field (repeatable)",
    )
    parser.add_argument(
        "--timezone",
        metavar="ZONE",
        help="time zone of times written without a UTC offset, e.g. Europe/Berlin",
    )
    parser.add_argument(
        "--confirm",
        action="store_true",
        help="import unusual but possible amounts as entered (otherwise they are errors)",
    )
    parser.add_argument("--delimiter", default=",", help="column separator (default ,)")
    parser.add_argument("--apply", action="store_true", help="write the rows")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if len(args.delimiter) != 1:
        return fail("--delimiter must be one character")
    if args.clinic:
        return run_clinic(args)
    if not args.product:
        return fail("--product is required with --patient: the product the doses are of")
    setup_django(args)
    from django.db import DatabaseError

    from kratomwatch.interop import cli_support as cs
    from kratomwatch.interop.csv_import import (
        CsvImportError,
        do_import_diary,
        find_product,
        parse_mapping,
        plan_diary_import,
        read_rows,
        resolve_zone,
    )

    try:
        mapping = parse_mapping(args.map)
        zone = resolve_zone(args.timezone)
        patient = cs.get_patient(args.patient)
        product = find_product(patient, args.product)
        rows = read_rows(Path(args.file), args.delimiter)
        options = {"mapping": mapping, "zone": zone, "confirm": args.confirm}
        with cs.progress("Checking rows", len(rows) - 1) as advance:
            plan = plan_diary_import(patient, product, rows, on_row=lambda _: advance(), **options)
        if args.apply:
            todo = len(plan.doses) + len(plan.checkins)
            with cs.progress("Importing rows", todo) as advance:
                plan = do_import_diary(
                    patient, product, rows, on_row=lambda _: advance(), **options
                )
    except (cs.NotFound, CsvImportError) as exc:
        return fail(str(exc))
    except DatabaseError as exc:
        return fail(cs.database_problem(exc))
    summary = plan.summary()
    if args.json:
        extra = {"applied": plan.applied, "ignored_columns": plan.ignored_columns}
        print(json.dumps(summary | extra, indent=2))
        return 0
    verb = "Imported" if plan.applied else "Would import"
    print(
        f"Checked {summary['rows']} rows for patient {patient.uuid}, product {product.name!r}: "
        f"{verb} {summary['doses_new']} doses and {summary['checkins_new']} daily check-ins; "
        f"{summary['doses_present']} doses and {summary['checkins_present']} check-ins were "
        "already imported."
    )
    if plan.ignored_columns:
        print("Columns not imported: " + ", ".join(plan.ignored_columns))
    if not plan.applied:
        print("Dry run: nothing was written. Run again with --apply to import.")
    return 0


def run_clinic(args: argparse.Namespace) -> int:
    for option in ("product", "map", "timezone"):
        if getattr(args, option):
            return fail(f"--{option} applies to a patient's diary, not to --clinic")
    directory = Path(args.file)
    if not directory.is_dir():
        return fail(f"{directory}: not a directory (--clinic imports an export-csv directory)")
    setup_django(args)
    from django.db import DatabaseError, transaction

    from kratomwatch.interop import cli_support as cs
    from kratomwatch.interop.csv_clinic import import_clinic_csv
    from kratomwatch.interop.csv_import import CsvImportError

    try:
        clinic = cs.get_clinic(args.clinic)
        with transaction.atomic():
            report = import_clinic_csv(directory, clinic)
            if not args.apply:
                transaction.set_rollback(True)
    except (cs.NotFound, CsvImportError) as exc:
        return fail(str(exc))
    except DatabaseError as exc:
        return fail(cs.database_problem(exc))
    if args.json:
        print(
            json.dumps(
                {"applied": args.apply, "counts": report.counts, "skipped": report.skipped},
                indent=2,
            )
        )
        return 0
    verb = "Imported" if args.apply else "Would import"
    counts = ", ".join(f"{n} {kind}" for kind, n in report.counts.items())
    print(f"{verb} into clinic {clinic.slug}: {counts}.")
    for line in report.skipped:
        print(f"Left out: {line}")
    if not args.apply:
        print("Dry run: nothing was written. Run again with --apply to import.")
    return 0
