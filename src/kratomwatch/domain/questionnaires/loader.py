"""Load instrument definitions from YAML files and check them.

Shipped instruments live in ``kratomwatch/data/instruments/*.yaml``. A clinic adds its own
(licensed) instruments by putting more ``*.yaml`` files in a directory and either passing
it to ``load_instruments(extra_dirs=[...])`` or naming it in the environment variable
``KRATOMWATCH_INSTRUMENT_DIRS`` (several directories separated by ``os.pathsep``). Every
file is checked against ``kratomwatch/data/schemas/instrument.schema.json`` and then for
consistency (item ids, band coverage, ...). An id may be defined only once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, cast

import jsonschema
import yaml

from kratomwatch.domain.questionnaires.model import (
    Band,
    ChangeRule,
    ChangeThreshold,
    ContextFlag,
    Instrument,
    InstrumentDefinitionError,
    Item,
    Licence,
    MissingRule,
    Number,
    Option,
    Reference,
    SafetyRule,
    Scoring,
    Subscale,
    UnknownInstrumentError,
    freeze_mapping,
    round_half_up,
)
from kratomwatch.domain.questionnaires.rules import BAND_RULES

ENV_VAR = "KRATOMWATCH_INSTRUMENT_DIRS"
"""Environment variable naming extra instrument directories (``os.pathsep`` separated)."""


def _data_dir() -> Traversable:
    return resources.files("kratomwatch") / "data"


@lru_cache(maxsize=1)
def instrument_schema() -> dict[str, Any]:
    """The JSON Schema every instrument file must satisfy."""
    text = (_data_dir() / "schemas" / "instrument.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return cast(dict[str, Any], schema)


def _schema_problems(data: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(instrument_schema())
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        problems.append(f"{where}: {error.message}")
    return problems


def _build_item(raw: Mapping[str, Any]) -> Item:
    options: tuple[Option, ...] = ()
    min_label = max_label = None
    if "options" in raw:
        options = tuple(Option(int(o["value"]), str(o["label"])) for o in raw["options"])
        allowed = frozenset(o.value for o in options)
    else:
        rng = raw["range"]
        allowed = frozenset(range(int(rng["min"]), int(rng["max"]) + 1))
        min_label = rng.get("min_label")
        max_label = rng.get("max_label")
    return Item(
        id=raw["id"],
        text=raw["text"],
        allowed=allowed,
        options=options,
        min_label=min_label,
        max_label=max_label,
        required=bool(raw.get("required", True)),
        scored=bool(raw.get("scored", True)),
        region=raw.get("region"),
    )


def _total_range(method: str, precision: int, items: Sequence[Item]) -> tuple[Number, Number]:
    low = sum(item.min_value for item in items)
    high = sum(item.max_value for item in items)
    if method == "sum":
        return low, high
    count = Decimal(len(items))
    return (
        round_half_up(Decimal(low) / count, precision),
        round_half_up(Decimal(high) / count, precision),
    )


def _check_consistency(raw: Mapping[str, Any], problems: list[str]) -> None:
    """Cross-field checks the schema cannot express. Appends to ``problems``."""
    item_ids = [item["id"] for item in raw["items"]]
    known = set(item_ids)
    duplicates = sorted({i for i in item_ids if item_ids.count(i) > 1})
    if duplicates:
        problems.append(f"items: duplicate item ids {duplicates}")
    for item in raw["items"]:
        if "options" in item:
            values = [o["value"] for o in item["options"]]
            if len(set(values)) != len(values):
                problems.append(f"items/{item['id']}: duplicate option values")
        elif item["range"]["min"] >= item["range"]["max"]:
            problems.append(f"items/{item['id']}: range min must be below max")

    scoring = raw["scoring"]

    def check_refs(where: str, refs: Iterable[str]) -> None:
        for ref in refs:
            if ref not in known:
                problems.append(f"{where}: unknown item {ref!r}")

    total_items = scoring.get("total_items")
    if total_items is not None:
        check_refs("scoring/total_items", total_items)
    elif not any(item.get("scored", True) for item in raw["items"]):
        problems.append("scoring: no scored items")
    in_total = set(total_items or [i["id"] for i in raw["items"] if i.get("scored", True)])
    for item in raw["items"]:
        if item["id"] in in_total and item.get("required", True) is False:
            problems.append(
                f"items/{item['id']}: an item counted in the total cannot be optional "
                "(use the prorate missing-item policy instead)"
            )

    sub_ids = [sub["id"] for sub in scoring.get("subscales", [])]
    if len(set(sub_ids)) != len(sub_ids):
        problems.append("scoring/subscales: duplicate subscale ids")
    for sub in scoring.get("subscales", []):
        check_refs(f"scoring/subscales/{sub['id']}", sub["items"])
        if sub["method"] == "region_count":
            by_id = {item["id"]: item for item in raw["items"]}
            for ref in sub["items"]:
                if ref in by_id and "region" not in by_id[ref]:
                    problems.append(f"scoring/subscales/{sub['id']}: item {ref!r} has no region")
    for flag in scoring.get("context_flags", []):
        check_refs(f"scoring/context_flags/{flag['id']}", flag["exclude_items"])
    for rule in scoring.get("safety_flags", []):
        check_refs("scoring/safety_flags", [rule["item"]])

    band_rule = scoring.get("band_rule")
    if band_rule is not None:
        needs = BAND_RULES[band_rule].requires
        for sub_id in needs.subscales:
            if sub_id not in sub_ids:
                problems.append(f"scoring/band_rule: {band_rule} needs subscale {sub_id!r}")
        check_refs(f"scoring/band_rule/{band_rule}", needs.items)

    change = raw.get("change")
    if change is not None and change["target"] != "total" and change["target"] not in sub_ids:
        problems.append(f"change/target: unknown subscale {change['target']!r}")


def _check_bands(instrument: Instrument, problems: list[str]) -> None:
    bands = instrument.scoring.bands
    if not bands:
        return
    if instrument.scoring.method != "sum":
        problems.append("scoring/bands: bands need an integer (sum) total")
        return
    low, high = instrument.total_range
    if bands[0].min != low:
        problems.append(f"scoring/bands: first band starts at {bands[0].min}, total min is {low}")
    if bands[-1].max != high:
        problems.append(f"scoring/bands: last band ends at {bands[-1].max}, total max is {high}")
    for band in bands:
        if band.min > band.max:
            problems.append(f"scoring/bands: band {band.label!r} has min above max")
    for before, after in zip(bands, bands[1:], strict=False):
        if after.min != before.max + 1:
            problems.append(
                f"scoring/bands: {before.label!r} ends at {before.max} but "
                f"{after.label!r} starts at {after.min} (bands must be contiguous)"
            )


def build_instrument(raw: Any, source: str) -> Instrument:
    """Validate one parsed definition and build the :class:`Instrument`."""
    problems = _schema_problems(raw)
    if problems:
        raise InstrumentDefinitionError(source, problems)
    _check_consistency(raw, problems)
    if problems:
        raise InstrumentDefinitionError(source, problems)

    items = tuple(_build_item(item) for item in raw["items"])
    by_id = {item.id: item for item in items}
    sc = raw["scoring"]
    total_ids = tuple(sc.get("total_items") or [item.id for item in items if item.scored])
    missing = sc["missing"]
    scoring = Scoring(
        method=sc["method"],
        total_items=total_ids,
        missing=MissingRule(
            policy=missing["policy"],
            note=missing["note"],
            max_missing=int(missing.get("max_missing", 0)),
            source=missing.get("source"),
        ),
        precision=int(sc.get("precision", 1)),
        total_label=sc.get("total_label"),
        subscales=tuple(
            Subscale(s["id"], s["label"], s["method"], tuple(s["items"]))
            for s in sc.get("subscales", [])
        ),
        bands=tuple(
            Band(int(b["min"]), int(b["max"]), b["label"], b.get("description"))
            for b in sc.get("bands", [])
        ),
        band_rule=sc.get("band_rule"),
        band_note=sc.get("band_note"),
        context_flags=tuple(
            ContextFlag(c["id"], c["description"], tuple(c["exclude_items"]))
            for c in sc.get("context_flags", [])
        ),
        safety_rules=tuple(
            SafetyRule(
                r["item"], int(r["greater_than"]), r["flag"], r["message"], r.get("symptom")
            )
            for r in sc.get("safety_flags", [])
        ),
    )
    change = None
    if "change" in raw:
        ch = raw["change"]
        thresholds = sorted(
            (
                ChangeThreshold(t["label"], Decimal(str(t["at_least"])))
                for t in ch.get("thresholds", [])
            ),
            key=lambda t: t.at_least,
            reverse=True,
        )
        change = ChangeRule(
            target=ch["target"],
            direction=ch["direction"],
            basis=ch.get("basis"),
            thresholds=tuple(thresholds),
            source=ch["source"],
            note=ch.get("note"),
        )
    lic = raw["licence"]
    instrument = Instrument(
        id=raw["id"],
        version=str(raw["version"]),
        title=raw["title"],
        short_title=raw.get("short_title"),
        description=raw["description"],
        instructions=raw.get("instructions"),
        completed_by=raw["completed_by"],
        recall_period=raw["recall_period"],
        wording=raw["wording"],
        wording_note=raw.get("wording_note"),
        validated=bool(raw["validated"]),
        validation_note=raw["validation_note"],
        licence=Licence(
            status=lic["status"],
            redistributable=bool(lic["redistributable"]),
            copyright=lic.get("copyright"),
            note=lic.get("note"),
        ),
        references=tuple(
            Reference(
                citation=r["citation"],
                pmid=r.get("pmid"),
                doi=r.get("doi"),
                url=r.get("url"),
                used_for=r.get("used_for"),
            )
            for r in raw["references"]
        ),
        items=items,
        scoring=scoring,
        change=change,
        notes=raw.get("notes"),
        source=source,
        total_range=_total_range(scoring.method, scoring.precision, [by_id[i] for i in total_ids]),
    )
    _check_bands(instrument, problems)
    if problems:
        raise InstrumentDefinitionError(source, problems)
    return instrument


def parse_instrument_text(text: str, source: str) -> Instrument:
    """Parse YAML text (with ``yaml.safe_load``) and build the instrument."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InstrumentDefinitionError(source, [f"not valid YAML: {exc}"]) from exc
    return build_instrument(raw, source)


def load_instrument_file(path: str | os.PathLike[str]) -> Instrument:
    """Load and check one instrument file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InstrumentDefinitionError(str(file), [f"cannot read: {exc}"]) from exc
    return parse_instrument_text(text, str(file))


def _shipped_files() -> list[tuple[str, str]]:
    folder = _data_dir() / "instruments"
    entries = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".yaml")),
        key=lambda e: e.name,
    )
    return [(f"kratomwatch/data/instruments/{e.name}", e.read_text("utf-8")) for e in entries]


def _extra_files(directory: str) -> list[tuple[str, str]]:
    folder = Path(directory)
    if not folder.is_dir():
        raise InstrumentDefinitionError(directory, ["not a directory"])
    found = []
    for file in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        try:
            found.append((str(file), file.read_text(encoding="utf-8")))
        except OSError as exc:
            raise InstrumentDefinitionError(str(file), [f"cannot read: {exc}"]) from exc
    return found


@lru_cache(maxsize=16)
def _load(extra_dirs: tuple[str, ...]) -> Mapping[str, Instrument]:
    catalogue: dict[str, Instrument] = {}
    files = _shipped_files()
    for directory in extra_dirs:
        files.extend(_extra_files(directory))
    for source, text in files:
        instrument = parse_instrument_text(text, source)
        if instrument.id in catalogue:
            first = catalogue[instrument.id].source
            raise InstrumentDefinitionError(
                source, [f"instrument id {instrument.id!r} is already defined in {first}"]
            )
        catalogue[instrument.id] = instrument
    return freeze_mapping(catalogue)


def _directories(extra_dirs: Iterable[str | os.PathLike[str]] | None) -> tuple[str, ...]:
    dirs = [str(Path(d)) for d in (extra_dirs or ())]
    env = os.environ.get(ENV_VAR, "")
    dirs.extend(str(Path(d)) for d in env.split(os.pathsep) if d.strip())
    return tuple(dict.fromkeys(dirs))


def load_instruments(
    extra_dirs: Iterable[str | os.PathLike[str]] | None = None,
) -> Mapping[str, Instrument]:
    """Every instrument by id: the shipped ones plus those in ``extra_dirs`` and in the
    directories named by ``KRATOMWATCH_INSTRUMENT_DIRS``. The result is cached per set of
    directories; call :func:`clear_cache` after changing files on disk."""
    return _load(_directories(extra_dirs))


def get_instrument(
    instrument_id: str, extra_dirs: Iterable[str | os.PathLike[str]] | None = None
) -> Instrument:
    """The instrument with that id; :class:`UnknownInstrumentError` (a ``KeyError``) if none."""
    catalogue = load_instruments(extra_dirs)
    try:
        return catalogue[instrument_id]
    except KeyError:
        raise UnknownInstrumentError(instrument_id, list(catalogue)) from None


def clear_cache() -> None:
    """Forget loaded instruments (for tests and after editing instrument files)."""
    _load.cache_clear()
