"""Every medication name in the knowledge base, written as prescriptions are written.

Generated from the data: each generic name, brand, synonym, misspelling, official name
(from the FDA's UNII list) and combination name is followed by strengths and directions,
changed in case and punctuation, and joined with another name. Each must be read as its
ingredients; and an entry is never read as only some of the ingredients it names: it is
either read whole or "not recognized".
"""

from __future__ import annotations

import random

import pytest

from kratomwatch.domain.substances import Knowledge, Match, load_knowledge

SUFFIXES = (
    "",
    " 10 mg",
    " 10mg 1 tab q6h prn",
    " 5 mg 1-2 tabs every 4-6 hours as needed for pain",
    " 25 mg take one at night",
    " 100 mg BID",
    " 50mg po tid prn anxiety",
    " 2 tablets twice daily for sleep",
)


def names(kb: Knowledge) -> list[tuple[str, frozenset[str]]]:
    found: list[tuple[str, frozenset[str]]] = []
    for s in kb.substances.values():
        for name in (s.name, *s.brands, *s.synonyms, *s.misspellings, *s.official_names):
            found.append((name, frozenset({s.id})))
    for c in kb.combinations:
        for name in (c.name, *c.aliases, *c.misspellings):
            found.append((name, frozenset(c.ingredients)))
    return found


def read(kb: Knowledge, text: str) -> frozenset[str] | None:
    match = kb.recognize(text)
    return frozenset(match.ids) if isinstance(match, Match) else None


@pytest.fixture(scope="module")
def kb() -> Knowledge:
    return load_knowledge()


def _unambiguous(kb: Knowledge) -> list[tuple[str, frozenset[str]]]:
    """Names read as their own ingredients when written alone (a name listed for two
    entries is read as the preferred one; those are checked by the data's own tests)."""
    return [(n, ids) for n, ids in names(kb) if read(kb, n) == ids]


def test_almost_every_name_is_read_alone(kb: Knowledge) -> None:
    all_names = names(kb)
    assert len(_unambiguous(kb)) >= 0.97 * len(all_names)


def test_names_with_strengths_and_directions_are_read_as_themselves(kb: Knowledge) -> None:
    wrong = []
    for name, ids in _unambiguous(kb):
        for suffix in SUFFIXES:
            for text in (name + suffix, (name + suffix).upper(), f"{name.lower()},{suffix}"):
                got = read(kb, text)
                if got is not None and got != ids:
                    wrong.append((text, sorted(ids), sorted(got)))
    assert not wrong, wrong[:20]


def test_most_names_with_directions_are_recognized(kb: Knowledge) -> None:
    cases = [(n + s, ids) for n, ids in _unambiguous(kb) for s in SUFFIXES]
    read_ok = sum(read(kb, text) == ids for text, ids in cases)
    assert read_ok >= 0.95 * len(cases)


JOINS = (" and ", " + ", ", ", " / ", " with ", "; ", " 5 mg and ", " for pain and ", " prn, ")


def test_two_names_are_read_both_or_not_at_all(kb: Knowledge) -> None:
    """Nothing is silently dropped: a pair is read as all of both, or not recognized."""
    rng = random.Random(20261207)
    pool = _unambiguous(kb)
    partial = []
    for _ in range(8000):
        (a, ids_a), (b, ids_b) = rng.sample(pool, 2)
        text = a + rng.choice(SUFFIXES) + rng.choice(JOINS) + b + rng.choice(SUFFIXES)
        got = read(kb, text)
        if got is not None and not (ids_a | ids_b) <= got:
            partial.append((text, sorted(ids_a | ids_b), sorted(got)))
    assert not partial, partial[:20]


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("Tylenol #3 1 tab q4h prn", {"paracetamol", "codeine"}),
        ("Tylenol 3 take 1 tablet every 4-6 hours as needed for pain", {"paracetamol", "codeine"}),
        ("Tylenol w/ codeine 30 mg", {"paracetamol", "codeine"}),
        ("acetaminophen for pain and oxycodone 5mg", {"paracetamol", "oxycodone"}),
        ("Tylenol for pain, oxycodone 5 mg q4h", {"paracetamol", "oxycodone"}),
        ("Percocet 5/325 1-2 tabs q6h prn", {"oxycodone", "paracetamol"}),
        ("Norco 10-325 mg 1 tablet every 6 hours as needed", {"hydrocodone", "paracetamol"}),
        ("Xanax 0.5 mg 1 tab tid prn anxiety", {"alprazolam"}),
        ("pethidine 50 mg", {"pethidine"}),
        ("meperidine 50 mg", {"pethidine"}),
        ("albuterol HFA 2 puffs q4h prn", {"salbutamol"}),
        ("calcium + vitamin D", {"calcium", "cholecalciferol"}),  # "calcium" is a salt word too
        ("diltiazem 120 mg / magnesium citrate 10mg", {"diltiazem", "magnesium"}),
        ("Prezista; One A Day", {"darunavir", "multivitamin"}),  # "one a day" is a direction too
        ("levonorgestrel/ethinyl estradiol", {"levonorgestrel", "ethinylestradiol"}),
        ("vitamin D 1000 IU daily", {"cholecalciferol"}),
    ],
)
def test_prescriptions_as_written(kb: Knowledge, text: str, ids: set[str]) -> None:
    assert read(kb, text) == frozenset(ids)


@pytest.mark.parametrize(
    "text",
    [
        "Tylenol for pain oxycodone 5 mg",  # a name after "for": not silently dropped
        "oxycodone and something unknown",
        "Tylenol prn oxycodone",
    ],
)
def test_what_cannot_be_read_whole_is_not_recognized(kb: Knowledge, text: str) -> None:
    assert read(kb, text) is None


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("ketoconazole 2% cream bid", "skin"),
        ("Nizoral shampoo twice weekly", "skin"),
        ("diclofenac 1% gel to knees", "skin"),
        ("miconazole oral gel", None),  # by mouth: systemic
        ("fentanyl 25 mcg/hr patch q72h", "transdermal"),
        ("Flonase 2 sprays each nostril daily", "nasal"),
        ("albuterol HFA 2 puffs q4h prn", "inhaled"),
        ("timolol 0.5% eye drops", "eye"),
        ("ciprofloxacin otic drops", "ear"),
        ("oxycodone 5 mg", None),
        ("ketoconazole cream and tablets", None),  # two routes: screened as systemic
    ],
)
def test_the_route_is_read_from_the_entry(text: str, route: str | None) -> None:
    from kratomwatch.domain.substances import route_of

    assert route_of(text) == route


def test_a_product_acting_where_applied_is_recognized_and_not_screened_systemically() -> None:
    from datetime import UTC, datetime

    from kratomwatch.domain.safety import screen
    from kratomwatch.domain.safety.snapshot import Medication, Snapshot

    now = datetime(2026, 12, 1, tzinfo=UTC)

    def codes(entry: str) -> list[str]:
        result = screen(Snapshot(as_of=now, medications=(Medication(entry, None),)))
        return [f.code for f in result.findings]

    assert codes("ketoconazole 200 mg tablet daily") == [
        "interaction.cyp3a_strong_inhibitor",
        "interaction.hepatotoxic",
    ]
    cream = screen(Snapshot(as_of=now, medications=(Medication("ketoconazole 2% cream", None),)))
    assert cream.findings == ()
    (use,) = cream.applied_locally
    assert use.substance == "Ketoconazole" and use.route == "skin"
    assert use.source.startswith("https://")
    # Not every product on the skin acts there: a fentanyl patch is screened in full.
    assert "interaction.opioid_agonist" in codes("fentanyl 25 mcg/hr patch")
