"""``kratomwatch export-fhir``: a patient's record as a FHIR R4 Bundle, or a clinic's as NDJSON.

``--patient UUID --out FILE`` writes one Bundle of type ``collection`` (``--out -`` writes it
to standard output); ``--clinic SLUG --out DIR`` writes one ``<Type>.ndjson`` file per
resource type and a ``manifest.json``. See docs/interoperability.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .db import add_db_arguments, fail, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "export-fhir",
        help="export a patient (Bundle) or a clinic (NDJSON) as FHIR R4",
        description="Export a patient's record as a FHIR R4 Bundle (JSON), or every patient "
        "of a clinic as NDJSON files, one per resource type. Every resource is validated "
        "against the FHIR R4B models before it is written.",
    )
    add_db_arguments(parser)
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--patient", metavar="UUID", help="the patient's public id")
    who.add_argument("--clinic", metavar="SLUG", help="the clinic's slug")
    parser.add_argument(
        "--out",
        required=True,
        metavar="FILE|DIR",
        help="the Bundle file for a patient (- for standard output), the directory for a clinic",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    setup_django(args)
    from django.db import DatabaseError

    from kratomwatch.interop import cli_support as cs
    from kratomwatch.interop.fhir_export import (
        ExportError,
        export_clinic_ndjson,
        write_patient_bundle,
    )

    out = Path(args.out)
    try:
        if args.patient:
            patient = cs.get_patient(args.patient)
            if args.out == "-":
                write_patient_bundle(patient, sys.stdout)
                return 0
            if out.is_dir():
                return fail(
                    f"--out {args.out} is a directory: give the file to write the Bundle to"
                )
            count = write_patient_bundle(patient, out)
            print(f"Wrote a Bundle of {count} resources for patient {patient.uuid} to {out}")
            return 0
        clinic = cs.get_clinic(args.clinic)
        if out.exists() and not out.is_dir():
            return fail(f"--out {args.out} is a file: give a directory for a clinic export")
        with cs.progress("Exporting patients", clinic.patients.count()) as advance:
            counts = export_clinic_ndjson(clinic, out, on_patient=lambda _: advance())
    except cs.NotFound as exc:
        return fail(str(exc))
    except ExportError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot write {args.out}: {exc.strerror}")
    except DatabaseError as exc:
        return fail(cs.database_problem(exc))
    total = sum(counts.values())
    print(f"Wrote {total} resources of clinic {clinic.slug} to {out}:")
    for name, count in counts.items():
        print(f"  {name}.ndjson  {count}")
    return 0
