"""The result triggers: liver tests, QTc and drug screens, read from the latest result of
each analyte or screen item (a newer result replaces an older one, so a newer normal
result clears the finding)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ..results import (
    NEGATIVE,
    POSITIVE,
    Measurement,
    injury_pattern,
    latest_by,
    load_lab_tests,
    r_ratio,
)
from .trigger_context import Context, Hit, _fmt

#: Kratom use counts as recent when a dose is recorded this many days before a result.
RECENT_USE_DAYS = 30


#: Liver values combined into one finding (R ratio, bilirubin) are at most this many days
#: apart: the project's own choice, so that a finding describes one episode.
SAME_PANEL_DAYS = 7


def _fresh(ctx: Context, spec: Mapping[str, Any], items: Any, key: str) -> dict[str, Any]:
    since = ctx.snapshot.as_of - timedelta(days=spec.get("max_age_days", 90))
    latest = latest_by(items, key)
    return {k: v for k, v in latest.items() if since <= v.taken_at <= ctx.snapshot.as_of}


def _kratom_use(ctx: Context, at: datetime) -> str | None:
    """Why kratom counts as in use at ``at``: doses in the diary in the 30 days before, or
    (when no dose is recorded at all) the products recorded as used."""
    doses = ctx.snapshot.doses
    if doses:
        since = at - timedelta(days=RECENT_USE_DAYS)
        days = {
            d.taken_at.astimezone(ctx.snapshot.tz).date()
            for d in doses
            if since <= d.taken_at <= at + timedelta(days=1)
        }
        if not days:
            return None
        return (
            f"kratom doses recorded on {len(days)} days in the {RECENT_USE_DAYS} days "
            "before the sample"
        )
    if ctx.snapshot.products:
        return "kratom products recorded as used"
    return None


def _measurement(m: Measurement, label: str, unit: str) -> tuple[dict[str, Any], str]:
    times = m.times_uln
    uln = m.uln
    text = f"{label} {_fmt(m.value, '0.01')} {unit}"
    if times is not None and uln is not None:
        text += f" ({_fmt(times)} × upper limit of normal {_fmt(uln, '0.01')} {unit})"
    return (
        {
            "type": "result",
            "analyte": m.analyte,
            "taken_at": m.taken_at.isoformat(),
            "value": _fmt(m.value, "0.01"),
            "unit": unit,
            "upper_limit": None if uln is None else _fmt(uln, "0.01"),
            "times_upper_limit": None if times is None else _fmt(times),
        },
        text,
    )


def liver_tests(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    """Raised liver tests with recent kratom use, graded by ``level``:

    - ``injury_with_jaundice``: ALT at least 3 × or ALP at least 2 × the upper limit of normal
      with total bilirubin at least 2 × (the severity step of the DILI expert working group);
    - ``injury``: ALT at least 5 × or ALP at least 2 × (the DILI threshold criteria) without it;
    - ``raised``: ALT or ALP above the upper limit of normal, below those thresholds.

    The injury pattern is named from the R ratio when ALT and ALP are both known."""
    latest = _fresh(ctx, spec, ctx.snapshot.measurements, "analyte")
    liver = [latest[a] for a in ("alt", "alp", "bilirubin") if a in latest]
    if liver:
        # One picture of the liver: values taken within a few days of the newest, never an
        # old bilirubin beside a new ALT, nor an R ratio of samples weeks apart.
        newest = max(m.taken_at for m in liver)
        window = timedelta(days=SAME_PANEL_DAYS)
        latest = {k: v for k, v in latest.items() if newest - v.taken_at <= window}
    alt, alp, bili = latest.get("alt"), latest.get("alp"), latest.get("bilirubin")
    x_alt = alt.times_uln if alt else None
    x_alp = alp.times_uln if alp else None
    x_bili = bili.times_uln if bili else None
    alt_x = x_alt or Decimal(0)
    alp_x = x_alp or Decimal(0)
    bili_x = x_bili or Decimal(0)
    jaundice = (alt_x >= 3 or alp_x >= 2) and bili_x >= 2
    injury = not jaundice and (alt_x >= 5 or alp_x >= 2)
    raised = not jaundice and not injury and (alt_x > 1 or alp_x > 1)
    level = spec["level"]
    if not {"injury_with_jaundice": jaundice, "injury": injury, "raised": raised}[level]:
        return None
    shown = [m for m in (alt, latest.get("ast"), alp, bili) if m is not None]
    newest = max(m.taken_at for m in shown)
    use = _kratom_use(ctx, newest)
    if use is None:
        return None
    catalogue = load_lab_tests().analytes
    triggers, parts = [], []
    for m in shown:
        trigger, text = _measurement(
            m, catalogue[m.analyte].label.split(" (")[0], catalogue[m.analyte].unit
        )
        triggers.append(trigger)
        parts.append(text)
    pattern = ""
    if alt is not None and alp is not None and (r := r_ratio(alt, alp)) is not None:
        name = injury_pattern(r)
        triggers.append({"type": "liver_pattern", "r_ratio": _fmt(r), "pattern": name})
        pattern = f" R ratio {_fmt(r)}: {name} pattern."
    else:
        pattern = " R ratio not calculated (ALT and ALP are both needed)."
    return Hit(
        tuple(triggers),
        f"Latest liver tests (to {newest.date().isoformat()}): {'; '.join(parts)}.{pattern} "
        f"With {use}.",
        f"{level}:{newest.isoformat()}",
    )


def qtc(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    """The latest QTc above ``above_ms`` with recent kratom use; with ``with_classes`` only
    when a medication of those classes is listed, with ``without_classes`` only when none is."""
    m = _fresh(ctx, spec, ctx.snapshot.measurements, "analyte").get("qtc")
    if m is None or m.value <= Decimal(str(spec["above_ms"])):
        return None
    use = _kratom_use(ctx, m.taken_at)
    if use is None:
        return None
    wanted = set(spec.get("with_classes") or spec.get("without_classes") or ())
    listed = [
        (name, [s.name for s in subs if wanted & set(s.classes)])
        for name, _, subs in ctx.medications
    ]
    listed = [(name, subs) for name, subs in listed if subs]
    if "with_classes" in spec and not listed:
        return None
    if "without_classes" in spec and listed:
        return None
    triggers: list[dict[str, Any]] = [
        {
            "type": "result",
            "analyte": "qtc",
            "taken_at": m.taken_at.isoformat(),
            "value": _fmt(m.value, "1"),
            "unit": "ms",
        }
    ]
    because = (
        f"QTc {_fmt(m.value, '1')} ms on {m.taken_at.date().isoformat()} (threshold: above "
        f"{spec['above_ms']} ms), with {use}."
    )
    if listed:
        triggers.extend(
            {"type": "medication", "name": name, "ingredients": subs} for name, subs in listed
        )
        because += (
            " QT-prolonging medication listed: " + ", ".join(name for name, _ in listed) + "."
        )
    return Hit(tuple(triggers), because, m.taken_at.isoformat())


def drug_screen_unexplained(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    """Drug-screen items positive in their latest result that no listed medication explains:
    no medication of the item's classes, and none of its substances, is on the list."""
    items = load_lab_tests().screen_items
    latest = _fresh(ctx, spec, ctx.snapshot.screens, "item")
    listed_classes = {c for _, _, subs in ctx.medications for s in subs for c in s.classes}
    listed_ids = {s.id for _, _, subs in ctx.medications for s in subs}
    hits = []
    for item_id, result in sorted(latest.items()):
        item = items.get(item_id)
        if item is None or item.kratom or result.result != POSITIVE:
            continue
        if item.classes & listed_classes or item.substances & listed_ids:
            continue
        hits.append((item, result))
    if not hits:
        return None
    names = ", ".join(
        f"{item.label} ({r.specimen.replace('_', ' ')}, {r.taken_at.date().isoformat()})"
        for item, r in hits
    )
    return Hit(
        tuple(
            {
                "type": "drug_screen",
                "item": item.id,
                "label": item.label,
                "result": r.result,
                "specimen": r.specimen,
                "taken_at": r.taken_at.isoformat(),
            }
            for item, r in hits
        ),
        f"Drug screen positive for {names}; nothing on the medication list explains it.",
        ",".join(f"{item.id}@{r.taken_at.isoformat()}" for item, r in hits),
    )


def kratom_screen_negative(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    """A screen that tested for kratom alkaloids found none, while the diary records kratom
    doses on at least ``min_days`` of the ``window_days`` days before the sample."""
    items = load_lab_tests().screen_items
    latest = _fresh(ctx, spec, ctx.snapshot.screens, "item")
    kratom = [r for i, r in latest.items() if i in items and items[i].kratom]
    if not kratom or any(r.result != NEGATIVE for r in kratom):
        return None
    sample = max(r.taken_at for r in kratom)
    since = sample - timedelta(days=spec["window_days"])
    days = {
        d.taken_at.astimezone(ctx.snapshot.tz).date()
        for d in ctx.snapshot.doses
        if since <= d.taken_at <= sample
    }
    if len(days) < spec["min_days"]:
        return None
    tested = ", ".join(items[r.item].label for r in sorted(kratom, key=lambda r: r.item))
    return Hit(
        tuple(
            {
                "type": "drug_screen",
                "item": r.item,
                "label": items[r.item].label,
                "result": r.result,
                "specimen": r.specimen,
                "taken_at": r.taken_at.isoformat(),
            }
            for r in kratom
        )
        + (
            {
                "type": "dose_series",
                "from": since.date().isoformat(),
                "to": sample.date().isoformat(),
                "dosing_days": len(days),
            },
        ),
        f"Screen of {sample.date().isoformat()} negative for {tested}, while the diary records "
        f"kratom doses on {len(days)} of the {spec['window_days']} days before the sample "
        f"(threshold {spec['min_days']} days).",
        sample.isoformat(),
    )
