"""``kratomwatch analyze DIARY.csv [--json]``: personal dose-response from a daily diary.

The CSV has a header row with the columns ``date`` (YYYY-MM-DD), ``pain`` (0-10) and
``dose_g`` (leaf-equivalent grams that day), and optionally ``interference`` (0-10) and
``side_effect`` (0 or 1). An empty cell means "not recorded"; other columns are ignored.
Bad input (missing column, value out of range, negative dose, unparseable date, duplicate
date) exits with status 2, names the row and column on stderr and prints nothing on stdout.
Too little data is not an error: the output says "insufficient data" and the minimum.
Uses only the pure clinical core (no Django). See docs/analysis.md for the contract.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

from kratomwatch.domain.analysis import (
    DayRecord,
    DiaryAnalysis,
    DoseResponseResult,
    SideEffectResult,
    analyse_diary,
)

EXIT_INVALID = 2
REQUIRED = ("date", "pain", "dose_g")
OPTIONAL = ("interference", "side_effect")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class InputError(Exception):
    pass


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="personal dose-response analysis of a daily diary (CSV)",
        description="Bayesian dose-response of daily pain on daily leaf-equivalent dose, with "
        "trend and AR(1) errors. An association, not causation; never a dose recommendation. "
        "Example: kratomwatch analyze diary.csv --json",
    )
    parser.add_argument("diary", metavar="DIARY.csv", help="CSV: date,pain,dose_g[,...]")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def _cell(row: dict[str | None, Any], column: str) -> str:
    value = row.get(column)
    return value.strip() if isinstance(value, str) else ""


def _number(text: str, where: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where}, column '{column}': {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{where}, column '{column}': {text!r} is not a finite number")
    return value


def _score(text: str, where: str, column: str) -> float | None:
    if text == "":
        return None
    value = _number(text, where, column)
    if not 0 <= value <= 10:
        raise InputError(f"{where}, column '{column}': {text} is outside 0-10")
    return value


def read_diary(path: Path) -> tuple[list[DayRecord], set[str]]:
    """Parse and check the diary. Returns the records and the optional columns present."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not a readable CSV file ({exc})") from None
        if not header:
            raise InputError(f"{path}: empty file (expected a header row: date,pain,dose_g)")
        reader.fieldnames = [(name or "").strip().lower() for name in header]
        for column in REQUIRED:
            if column not in reader.fieldnames:
                raise InputError(f"header row: missing required column '{column}'")
        optional = {c for c in OPTIONAL if c in reader.fieldnames}
        records: list[DayRecord] = []
        first_row: dict[date, int] = {}
        number = 0
        try:
            for number, row in enumerate(reader, start=1):
                records.append(_record(row, number, reader.line_num, optional, first_row))
        except csv.Error as exc:
            raise InputError(f"row {number + 1} (line {reader.line_num}): {exc}") from None
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text") from None
    return records, optional


def _record(
    row: dict[str | None, Any],
    number: int,
    line: int,
    optional: set[str],
    first_row: dict[date, int],
) -> DayRecord:
    where = f"row {number} (line {line})"
    text = _cell(row, "date")
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{where}, column 'date': {text!r} is not a date (YYYY-MM-DD)") from None
    if day in first_row:
        raise InputError(
            f"{where}, column 'date': {day.isoformat()} is a duplicate of row {first_row[day]}"
        )
    first_row[day] = number
    pain = _score(_cell(row, "pain"), where, "pain")
    dose_text = _cell(row, "dose_g")
    dose = None if dose_text == "" else _number(dose_text, where, "dose_g")
    if dose is not None and dose < 0:
        raise InputError(f"{where}, column 'dose_g': {dose_text} is negative")
    interference = (
        _score(_cell(row, "interference"), where, "interference")
        if "interference" in optional
        else None
    )
    side_effect: bool | None = None
    if "side_effect" in optional:
        flag = _cell(row, "side_effect")
        if flag not in ("", "0", "1"):
            raise InputError(f"{where}, column 'side_effect': {flag!r} is not 0 or 1")
        side_effect = None if flag == "" else flag == "1"
    return DayRecord(day, pain, dose, interference, side_effect)


def _summary(x: Any) -> dict[str, Any]:
    return x.to_dict() if x is not None else {"mean": None, "ci90": None}


def outcome_json(result: DoseResponseResult) -> dict[str, Any]:
    """The documented keys for one outcome (see docs/analysis.md, "CLI contract")."""
    data = result.to_dict()
    return {
        "n_days": result.n_days,
        "window": data["window"],
        "sufficient": result.sufficient,
        "effect_per_g": _summary(result.effect),
        "prob_benefit": data["prob_benefit"],
        "prob_benefit_30pct": data["prob_benefit_30pct"],
        "typical_dose_g": data["typical_dose"],
        "baseline": data["baseline"],
        "plateau_g": data["plateau"],
        "ar1": data["ar1"],
        "effect_same_day_per_g": _summary(result.effect_same_day),
        "effect_previous_day_per_g": _summary(result.effect_previous_day),
        "trend_per_30_days": _summary(result.trend_per_30_days),
        "residual_sd": data["residual_sd"],
        "model_comparison": data["model_comparison"],
        "notes": list(result.notes),
    }


def side_effects_json(result: SideEffectResult) -> dict[str, Any]:
    data = result.to_dict()
    return {
        "n_days": data["n_days"],
        "window": data["window"],
        "sufficient": data["sufficient"],
        "by_dose_third": data["by_dose_third"],
        "odds_ratio_per_g": data["odds_ratio_per_unit"],
        "prob_increase": data["prob_increase"],
        "notes": data["notes"],
    }


def analysis_json(analysis: DiaryAnalysis) -> dict[str, Any]:
    out = outcome_json(analysis.pain)
    out["interference"] = (
        outcome_json(analysis.interference) if analysis.interference is not None else None
    )
    out["side_effects"] = (
        side_effects_json(analysis.side_effects) if analysis.side_effects is not None else None
    )
    return out


def _fail(message: str) -> int:
    print(f"kratomwatch analyze: {message}", file=sys.stderr)
    return EXIT_INVALID


def run(args: argparse.Namespace) -> int:
    try:
        records, _ = read_diary(Path(args.diary))
    except InputError as exc:
        return _fail(str(exc))
    analysis = analyse_diary(records)
    data = analysis_json(analysis)
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return 0
    print_readable(data)
    return 0


def _fmt(summary: dict[str, Any], digits: int = 2) -> str:
    if summary is None or summary.get("mean") is None:
        return "-"
    lo, hi = summary["ci90"]
    return f"{summary['mean']:+.{digits}f}  (90% CrI {lo:+.{digits}f} to {hi:+.{digits}f})"


def _pct(p: float | None) -> str:
    return "-" if p is None else f"{100 * p:.0f}%"


def print_readable(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    for name, part in (("Pain", data), ("Interference", data.get("interference"))):
        if part is None:
            continue
        table = Table(title=f"{name} against daily dose (leaf-equivalent g)", show_header=False)
        table.add_column("", style="bold")
        table.add_column("")
        window = part["window"]
        table.add_row(
            "days analysed",
            f"{part['n_days']}" + (f"  ({window[0]} to {window[1]})" if window else ""),
        )
        if part["sufficient"]:
            table.add_row("change per g (sustained)", _fmt(part["effect_per_g"]))
            table.add_row("  same day", _fmt(part["effect_same_day_per_g"]))
            table.add_row("  previous day", _fmt(part["effect_previous_day_per_g"]))
            table.add_row("trend per 30 days", _fmt(part["trend_per_30_days"]))
            lo, hi = part["typical_dose_g"]
            table.add_row("typical dose range", f"{lo:.2f} to {hi:.2f} g (10th-90th percentile)")
            table.add_row("P(benefit >= 1 point)", _pct(part["prob_benefit"]))
            table.add_row("P(benefit >= 30% of baseline)", _pct(part["prob_benefit_30pct"]))
            plateau = part["plateau_g"]
            table.add_row("plateau", "none reported" if plateau is None else f"about {plateau} g")
            table.add_row("AR(1)", _fmt(part["ar1"]))
        console.print(table)
        for note in part["notes"]:
            console.print(f"  - {note}")
        console.print()
    side = data.get("side_effects")
    if side is not None:
        table = Table(title="Side effects by same-day dose")
        for column in ("dose third", "dose range (g)", "days", "with side effect"):
            table.add_column(column)
        for band in side["by_dose_third"]:
            table.add_row(
                band["label"],
                f"{band['dose_min']:.2f} to {band['dose_max']:.2f}",
                str(band["n_days"]),
                f"{band['n_with_side_effect']} ({100 * band['proportion']:.0f}%)",
            )
        console.print(table)
        if side["odds_ratio_per_g"]:
            console.print(
                f"  odds ratio per g: {_fmt(side['odds_ratio_per_g'])};"
                f" P(odds rise with dose) {_pct(side['prob_increase'])}"
            )
        for note in side["notes"]:
            console.print(f"  - {note}")
