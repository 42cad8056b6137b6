"""``kratomwatch cohort --clinic SLUG [--json]``: aggregate statistics over a whole clinic.

Counts, shares and means only: no names and no per-patient rows. The definitions are in
:mod:`kratomwatch.clinic.cohort` and are printed with the figures.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from .db import add_db_arguments, fail, setup_django


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "cohort",
        help="aggregate statistics over a clinic's patients (check-ins, findings, trends)",
        description="Print a clinic's cohort statistics: patients who checked in during the "
        "last 14 days, patients with open findings by severity and category, the change in "
        "leaf-equivalent dose and the mean daily pain score over the last 28 days against "
        "the 28 days before. Aggregate figures only.",
    )
    add_db_arguments(parser)
    parser.add_argument("--clinic", required=True, metavar="SLUG", help="the clinic's slug")
    parser.add_argument("--json", action="store_true", help="print the statistics as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    setup_django(args)
    from django.db import DatabaseError

    from kratomwatch.clinic.cohort import cohort_statistics
    from kratomwatch.interop import cli_support as cs

    try:
        clinic = cs.get_clinic(args.clinic)
        data = cohort_statistics(clinic).to_dict()
    except cs.NotFound as exc:
        return fail(str(exc))
    except DatabaseError as exc:
        return fail(cs.database_problem(exc))
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    print_tables(data)
    return 0


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.1f}%"


def _num(value: float | None, suffix: str = "", signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.2f}{suffix}" if signed else f"{value:.2f}{suffix}"


def print_tables(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    windows = data["windows"]
    days, trend = windows["checkin_days"], windows["trend_days"]
    as_of = data["as_of"][:16].replace("T", " ")
    overview = Table(
        title=f"Clinic {data['clinic']}: cohort statistics as of {as_of} UTC", show_header=False
    )
    overview.add_column("", style="bold")
    overview.add_column("", justify="right")
    overview.add_column("", justify="right")
    overview.add_row("patients (active accounts)", str(data["patients"]), "")
    checked = data["checked_in"]
    overview.add_row(
        f"checked in during the last {days} days", str(checked["patients"]), _pct(checked["share"])
    )
    console.print(overview)

    findings = Table(title="Patients with an open finding")
    findings.add_column("severity")
    findings.add_column("cause present", justify="right")
    findings.add_column("share", justify="right")
    findings.add_column("incl. cause gone", justify="right")
    findings.add_column("share", justify="right")
    for level, row in data["open_findings"].items():
        findings.add_row(
            level,
            str(row["patients"]),
            _pct(row["share"]),
            str(row["patients_incl_cause_gone"]),
            _pct(row["share_incl_cause_gone"]),
        )
    console.print(findings)

    categories = Table(title="Patients with an open finding (cause present), by category")
    categories.add_column("category")
    categories.add_column("patients", justify="right")
    for category, n in data["open_findings_by_category"].items():
        categories.add_row(category, str(n))
    if not data["open_findings_by_category"]:
        categories.add_row("none", "0")
    console.print(categories)

    dose = data["dose_trend"]
    threshold = windows["change_threshold_pct"]
    doses = Table(
        title=f"Leaf-equivalent dose, last {trend} days against the {trend} days before",
        show_header=False,
    )
    doses.add_column("", style="bold")
    doses.add_column("", justify="right")
    doses.add_column("", justify="right")
    doses.add_row("patients compared", str(dose["patients_compared"]), "")
    for key, label in (
        ("rose", f"rose by more than {threshold}%"),
        ("steady", f"within ±{threshold}%"),
        ("fell", f"fell by more than {threshold}%"),
    ):
        doses.add_row(f"  {label}", str(dose[key]["patients"]), _pct(dose[key]["share"]))
    median = dose["median_change_pct"]
    doses.add_row("median change", "-" if median is None else f"{median:+.1f}%", "")
    skipped = dose["not_compared"]
    doses.add_row("not compared:", "", "")
    doses.add_row("  doses only in the last window", str(skipped["doses_only_in_last_window"]), "")
    doses.add_row(
        "  doses only in the earlier window", str(skipped["doses_only_in_earlier_window"]), ""
    )
    doses.add_row(
        "  some doses of unknown potency", str(skipped["some_doses_of_unknown_potency"]), ""
    )
    console.print(doses)

    pain = data["pain_trend"]
    pains = Table(title="Daily pain score (0-10), mean over all responses", show_header=False)
    pains.add_column("", style="bold")
    pains.add_column("", justify="right")
    pains.add_column("", justify="right")
    pains.add_row(
        f"last {trend} days",
        _num(pain["mean_last_window"]),
        f"{pain['responses_last_window']} responses, {pain['patients_last_window']} patients",
    )
    pains.add_row(
        f"the {trend} days before",
        _num(pain["mean_earlier_window"]),
        f"{pain['responses_earlier_window']} responses, {pain['patients_earlier_window']} patients",
    )
    pains.add_row("change", _num(pain["change"], signed=True), "")
    console.print(pains)
    for note in data["notes"]:
        console.print(f"  - {note}")
