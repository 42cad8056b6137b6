"""One function per trigger kind of the rules file. Each returns the triggering input items
(exactly as given) and a sentence naming them, or nothing when the rule does not apply.

Adding a kind means adding a function here (or in a module of its own, as the product trigger
in product_triggers.py) and its shape to rules.schema.json.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from ..medication_amount import daily_mg
from ..questionnaires import UnknownInstrumentError, get_instrument
from ..substances import load_knowledge as load_substances
from .induction_triggers import induction_cows_rise, induction_kratom_use, induction_sedation
from .product_triggers import product
from .result_triggers import drug_screen_unexplained, kratom_screen_negative, liver_tests, qtc
from .series import in_window, mean, pct_change, window
from .trigger_context import RECENT_DAYS, Context, Hit, Trigger, _fmt


def substance_class(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    wanted = set(spec["classes"])
    return _medications(ctx, lambda s: bool(wanted & set(s.classes)), wanted)


def induction_depressants(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    """Medications of these classes while a buprenorphine transition is active."""
    if ctx.snapshot.induction is None:
        return None
    hit = substance_class(spec, ctx)
    if hit is None:
        return None
    return Hit(hit.triggers, "During the buprenorphine transition: " + hit.because, hit.key)


def substance(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    wanted = set(spec["substances"])
    return _medications(ctx, lambda s: s.id in wanted, set())


def medication_amount(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    """An ingredient whose daily amount, read from the entry, is above a label's limit; or,
    with ``at_most_mg_per_day``, within it or not stated."""
    wanted = set(spec["substances"])
    unit = Decimal(str(spec["unit_mg"])) if "unit_mg" in spec else None
    above = "above_mg_per_day" in spec
    limit = Decimal(str(spec["above_mg_per_day" if above else "at_most_mg_per_day"]))
    triggers: list[dict[str, Any]] = []
    parts: list[str] = []
    ingredients: set[str] = set()
    for name, dose, substances in ctx.medications:
        matched = [s for s in substances if s.id in wanted]
        if not matched:
            continue
        # In a combination ("2 mg/125 mg") a strength cannot be told apart from the other
        # ingredient's: its daily amount is not read.
        amount = None if len(substances) > 1 else daily_mg(f"{name} {dose or ''}", unit_mg=unit)
        if above != (amount is not None and amount.mg > limit):
            continue
        entry = name + (f" ({dose})" if dose else "")
        if amount is None:
            parts.append(f"{entry}: daily amount not stated")
        else:
            parts.append(f"{entry}: {_fmt(amount.mg)} mg a day ({amount.how})")
        ingredients.update(s.id for s in matched)
        triggers.append(
            _medication_trigger(name, dose, matched)
            | {"mg_per_day": None if amount is None else _fmt(amount.mg)}
        )
    if not triggers:
        return None
    side = "above" if above else "at most"
    return Hit(
        tuple(triggers),
        f"{'; '.join(parts)} (limit: {side} {_fmt(limit)} mg a day).",
        ",".join(sorted(ingredients)),
    )


def _medications(ctx: Context, pick: Callable[[Any], bool], classes: set[str]) -> Hit | None:
    hits = []
    for name, dose, substances in ctx.medications:
        matched = [s for s in substances if pick(s)]
        if matched:
            hits.append((name, dose, matched))
    if not hits:
        return None
    parts = []
    for name, _, matched in hits:
        detail = "; ".join(
            s.name + (f" ({', '.join(_class_labels(classes & set(s.classes)))})" if classes else "")
            for s in matched
        )
        parts.append(f"{name} [{detail}]")
    triggers = tuple(_medication_trigger(name, dose, matched) for name, dose, matched in hits)
    key = ",".join(sorted({s.id for _, _, m in hits for s in m}))
    return Hit(triggers, "Medication list includes " + ", ".join(parts) + ".", key)


def _medication_trigger(name: str, dose: str | None, matched: list[Any]) -> dict[str, Any]:
    """A medication entry as a trigger: as entered, with the ingredients that matched."""
    return {
        "type": "medication",
        "name": name,
        "dose": dose,
        "ingredients": [s.id for s in matched],
    }


def _class_labels(classes: set[str]) -> list[str]:
    """Substance classes by their labels ("Benzodiazepine"), never their ids."""
    known = load_substances().classes
    return sorted(known[c].label if c in known else c.replace("_", " ") for c in classes)


def condition(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    wanted = set(spec["conditions"])
    hits = [(text, code) for text, code in ctx.conditions if code in wanted]
    if not hits:
        return None
    labels = ", ".join(
        f"{text} ({ctx.knowledge.conditions[code].label})"
        if text != code
        else ctx.knowledge.conditions[code].label
        for text, code in hits
    )
    return Hit(
        tuple({"type": "condition", "name": text, "code": code} for text, code in hits),
        f"Recorded condition: {labels}.",
        ",".join(sorted({c for _, c in hits})),
    )


def age(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    yob = ctx.snapshot.year_of_birth
    if yob is None:
        return None
    # Only the year of birth is kept, so the age may be one year too high before the birthday:
    # a minimum is met at the higher age, a maximum only when even the higher age is within it.
    years = ctx.today.year - yob
    if "max_years" in spec:
        if years > spec["max_years"]:
            return None
        threshold = f"at most {spec['max_years']}"
    elif years < spec["min_years"]:
        return None
    else:
        threshold = str(spec["min_years"])
    return Hit(
        ({"type": "year_of_birth", "value": yob},),
        f"Born in {yob}: at most {years} years old (threshold {threshold})."
        if "max_years" in spec
        else f"Born in {yob}: about {years} years old (threshold {threshold}).",
        threshold,
    )


def symptom(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    wanted = set(spec["symptoms"])
    hits = [(text, sid, at) for text, sid, at in ctx.symptoms if sid in wanted]
    if not hits:
        return None
    named = ", ".join(f"“{text}”" for text, _, _ in hits)
    return Hit(
        tuple(
            {
                "type": "symptom",
                "text": text,
                "symptom": sid,
                "label": ctx.knowledge.symptoms[sid].label,
                "reported_at": None if at is None else at.isoformat(),
            }
            for text, sid, at in hits
        ),
        f"Reported symptom: {named}.",
        ",".join(sorted({s for _, s, _ in hits})),
    )


def _latest(ctx: Context, instrument: str) -> Any:
    since = ctx.snapshot.as_of - timedelta(days=RECENT_DAYS)
    recent = [
        r for r in ctx.snapshot.responses if r.instrument == instrument and r.taken_at >= since
    ]
    return max(recent, key=lambda r: r.taken_at) if recent else None


def _response_trigger(response: Any) -> dict[str, Any]:
    return {
        "type": "response",
        "instrument": response.instrument,
        "taken_at": response.taken_at.isoformat(),
        "total": str(response.score.total),
        "answers": response.score.to_dict().get("answers"),
    }


def _instrument_name(instrument_id: str) -> str:
    """An instrument by its name ("PHQ-9"), never its id."""
    try:
        instrument = get_instrument(instrument_id)
    except UnknownInstrumentError:
        return "A questionnaire"
    return instrument.short_title or instrument.title


def _item_name(instrument_id: str, item_id: str) -> str:
    """An item by its number in the questionnaire ("item 9"), never its id."""
    try:
        ids = get_instrument(instrument_id).item_ids
    except UnknownInstrumentError:
        return "an item"
    return f"item {ids.index(item_id) + 1}" if item_id in ids else "an item"


def questionnaire_item(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    response = _latest(ctx, spec["instrument"])
    if response is None:
        return None
    value = response.score.answers.get(spec["item"])
    if value is None or value < spec["min"]:
        return None
    return Hit(
        (_response_trigger(response),),
        f"{_instrument_name(spec['instrument'])} on {response.taken_at.date().isoformat()}: "
        f"{_item_name(spec['instrument'], spec['item'])} answered {value} "
        f"(threshold {spec['min']}).",
        f"{spec['instrument']}:{response.taken_at.isoformat()}",
    )


def questionnaire_score(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    response = _latest(ctx, spec["instrument"])
    if response is None:
        return None
    total, band = response.score.total, response.score.band
    if "min_total" in spec:
        if total is None or total < spec["min_total"]:
            return None
        why = f"total {total} (threshold {spec['min_total']})"
    else:
        if band not in spec["bands"]:
            return None
        why = f"total {total}, band “{band}”"
    return Hit(
        (_response_trigger(response),),
        f"{_instrument_name(spec['instrument'])} on {response.taken_at.date().isoformat()}: {why}.",
        f"{spec['instrument']}:{response.taken_at.isoformat()}",
    )


def dose_frequency(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    span = window(ctx.today, spec["window_days"])
    counts = [n for d, n in ctx.daily.dose_count.items() if span[0] <= d <= span[1]]
    if len(counts) < spec["min_days"]:
        return None
    per_day = Decimal(sum(counts)) / len(counts)
    if per_day < Decimal(str(spec["min_doses_per_day"])):
        return None
    return Hit(
        (
            {
                "type": "dose_series",
                "from": span[0].isoformat(),
                "to": span[1].isoformat(),
                "dosing_days": len(counts),
                "doses": sum(counts),
            },
        ),
        f"{sum(counts)} doses on {len(counts)} days between {span[0]} and {span[1]}: "
        f"{_fmt(per_day)} doses per dosing day (threshold {spec['min_doses_per_day']}).",
        f"{span[1].isocalendar()[0]}-W{span[1].isocalendar()[1]:02d}",
    )


def daily_amount(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    if spec.get("without_plan") and ctx.snapshot.plan is not None:
        return None
    span = window(ctx.today, spec["window_days"])
    limit = Decimal(str(spec["min_leaf_g"]))
    days = sorted(d for d, g in ctx.daily.dose_g.items() if span[0] <= d <= span[1] and g >= limit)
    if len(days) < spec["min_days"]:
        return None
    highest = max(ctx.daily.dose_g[d] for d in days)
    return Hit(
        (
            {
                "type": "dose_series",
                "from": span[0].isoformat(),
                "to": span[1].isoformat(),
                "days_at_or_above": len(days),
                "highest_leaf_g": str(highest),
            },
        ),
        f"{len(days)} days between {span[0]} and {span[1]} with {_fmt(limit)} g or more of "
        f"leaf equivalent (highest {_fmt(highest)} g in a day)"
        + (", with no plan in effect." if spec.get("without_plan") else "."),
        f"{span[1].isocalendar()[0]}-W{span[1].isocalendar()[1]:02d}",
    )


def tolerance(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    days = spec["window_days"]
    recent, before = window(ctx.today, days), window(ctx.today, days, offset=days)
    need = max(1, days // 2)
    dose_now, dose_before = in_window(ctx.daily.dose_g, recent), in_window(ctx.daily.dose_g, before)
    pain_now, pain_before = in_window(ctx.daily.pain, recent), in_window(ctx.daily.pain, before)
    if min(len(dose_now), len(dose_before), len(pain_now), len(pain_before)) < need:
        return None
    d0, d1 = mean(dose_before), mean(dose_now)
    p0, p1 = mean(pain_before), mean(pain_now)
    assert d0 is not None and d1 is not None and p0 is not None and p1 is not None
    dose_rise = pct_change(d0, d1)
    pain_change = pct_change(p0, p1)
    improvement = Decimal(0) if pain_change is None else -pain_change
    if dose_rise is None or dose_rise < Decimal(str(spec["min_dose_increase_pct"])):
        return None
    if improvement >= Decimal(str(spec["max_pain_improvement_pct"])):
        return None
    return Hit(
        (
            {
                "type": "dose_series",
                "from": before[0].isoformat(),
                "to": recent[1].isoformat(),
                "mean_daily_g_before": _fmt(d0, "0.01"),
                "mean_daily_g_after": _fmt(d1, "0.01"),
                "mean_pain_before": _fmt(p0),
                "mean_pain_after": _fmt(p1),
            },
        ),
        f"Mean daily dose rose {_fmt(dose_rise, '1')}% ({_fmt(d0, '0.01')} → {_fmt(d1, '0.01')} g "
        f"leaf-equivalent, {before[0]}–{before[1]} vs {recent[0]}–{recent[1]}) while mean pain "
        f"went from {_fmt(p0)} to {_fmt(p1)} (improvement {_fmt(improvement, '1')}%, threshold "
        f"{spec['max_pain_improvement_pct']}%).",
        f"{recent[1].isocalendar()[0]}-W{recent[1].isocalendar()[1]:02d}",
    )


def lack_of_benefit(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    period = ctx.snapshot.benefit_review_days or spec["after_days"]
    baseline = window(ctx.today, 14, offset=period - 14)
    current = window(ctx.today, 14)
    p0, p1 = in_window(ctx.daily.pain, baseline), in_window(ctx.daily.pain, current)
    d0, d1 = in_window(ctx.daily.dose_g, baseline), in_window(ctx.daily.dose_g, current)
    if min(len(p0), len(p1), len(d0), len(d1)) < 7:
        return None
    pain0, pain1, dose0, dose1 = mean(p0), mean(p1), mean(d0), mean(d1)
    assert pain0 is not None and pain1 is not None and dose0 is not None and dose1 is not None
    dose_change = pct_change(dose0, dose1)
    if dose_change is None or abs(dose_change) >= Decimal(str(spec["max_dose_change_pct"])):
        return None
    change = pct_change(pain0, pain1)
    improvement = Decimal(0) if change is None else -change
    if improvement >= Decimal(str(spec["min_improvement_pct"])):
        return None
    return Hit(
        (
            {
                "type": "pain_series",
                "baseline": [baseline[0].isoformat(), baseline[1].isoformat()],
                "current": [current[0].isoformat(), current[1].isoformat()],
                "mean_pain_baseline": _fmt(pain0),
                "mean_pain_current": _fmt(pain1),
                "mean_daily_g_baseline": _fmt(dose0, "0.01"),
                "mean_daily_g_current": _fmt(dose1, "0.01"),
            },
        ),
        f"Over {period} days at a stable dose ({_fmt(dose0, '0.01')} → {_fmt(dose1, '0.01')} g a "
        f"day) mean pain went from {_fmt(pain0)} ({baseline[0]}–{baseline[1]}) to {_fmt(pain1)} "
        f"({current[0]}–{current[1]}): {_fmt(improvement, '1')}% improvement, below "
        f"{spec['min_improvement_pct']}%.",
        f"{current[1].isocalendar()[0]}-W{current[1].isocalendar()[1]:02d}",
    )


def pharmacogenomic(spec: Mapping[str, Any], ctx: Context) -> Hit | None:
    phenotype = ctx.snapshot.pharmacogenomics.get(spec["gene"])
    if phenotype is None or phenotype not in spec["phenotypes"]:
        return None
    return Hit(
        ({"type": "pharmacogenomic", "gene": spec["gene"], "phenotype": phenotype},),
        f"{spec['gene']} phenotype: {phenotype} metabolizer.",
        spec["gene"],
    )


TRIGGERS: dict[str, Trigger] = {
    "substance_class": substance_class,
    "substance": substance,
    "medication_amount": medication_amount,
    "condition": condition,
    "age": age,
    "product": product,
    "symptom": symptom,
    "questionnaire_item": questionnaire_item,
    "questionnaire_score": questionnaire_score,
    "dose_frequency": dose_frequency,
    "daily_amount": daily_amount,
    "tolerance": tolerance,
    "lack_of_benefit": lack_of_benefit,
    "pharmacogenomic": pharmacogenomic,
    "induction_cows_rise": induction_cows_rise,
    "induction_sedation": induction_sedation,
    "induction_depressants": induction_depressants,
    "induction_kratom_use": induction_kratom_use,
    "liver_tests": liver_tests,
    "qtc": qtc,
    "drug_screen_unexplained": drug_screen_unexplained,
    "kratom_screen_negative": kratom_screen_negative,
}

__all__ = ["TRIGGERS", "Context", "Hit"]
