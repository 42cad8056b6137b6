"""Property tests: exact conversions, order-independent totals, days in the patient's zone."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, localcontext
from functools import reduce

from hypothesis import given
from hypothesis import strategies as st

from kratomwatch.domain.doses import (
    EXPOSURE_FIELDS,
    Exposure,
    Quantity,
    Unit,
    daily_totals,
    g_to_mg,
    mg_to_g,
    normalize,
)
from kratomwatch.domain.products import (
    ProductForm,
    ProductSpec,
    mg_per_g_to_percent,
    percent_to_mg_per_g,
)

decimals = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, allow_infinity=False
)
amounts = st.decimals(
    min_value=Decimal("0.001"),
    max_value=Decimal("50"),
    places=3,
    allow_nan=False,
    allow_infinity=False,
)
maybe = st.one_of(st.none(), st.decimals(min_value=0, max_value=10_000, places=4))
exposures = st.builds(Exposure, maybe, maybe, maybe)
zones = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=zones
)
doses = st.lists(st.tuples(moments, exposures), max_size=25)


@given(decimals)
def test_mg_g_round_trip_is_exact(x):
    assert g_to_mg(mg_to_g(x)) == x
    assert mg_to_g(g_to_mg(x)) == x
    with localcontext(prec=100):  # the reference product must not round either
        assert g_to_mg(x) == x * 1000


@given(decimals)
def test_percent_mg_per_g_round_trip_is_exact(p):
    assert mg_per_g_to_percent(percent_to_mg_per_g(p)) == p
    with localcontext(prec=100):
        assert percent_to_mg_per_g(p) == p * 10


@given(amounts, st.one_of(st.none(), st.decimals(min_value=0, max_value=1000, places=3)))
def test_grams_and_milligrams_of_leaf_normalize_the_same(grams, mg_per_g):
    spec = ProductSpec(ProductForm.LEAF_POWDER, mitragynine_mg_per_g=mg_per_g)
    as_g = normalize(Quantity(grams, Unit.G), spec)
    as_mg = normalize(Quantity(g_to_mg(grams), Unit.MG), spec)
    assert as_g == as_mg
    assert as_g.leaf_equivalent_g == grams
    assert as_g.mitragynine_mg == (None if mg_per_g is None else grams * mg_per_g)


@given(doses, st.randoms(use_true_random=False), zones)
def test_daily_totals_do_not_depend_on_order(items, rnd, tz):
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert daily_totals(items, tz) == daily_totals(shuffled, tz)


@given(doses, zones)
def test_daily_totals_equal_the_sum_of_each_days_doses(items, tz):
    totals = daily_totals(items, tz)
    assert sum(t.dose_count for t in totals.values()) == len(items)
    for day, total in totals.items():
        todays = [e for when, e in items if when.astimezone(tz).date() == day]
        expected = reduce(Exposure.__add__, todays, Exposure.zero())
        for name in EXPOSURE_FIELDS:
            assert getattr(total, name) == getattr(expected, name)
            unknown = sum(getattr(e, name) is None for e in todays)
            assert total.unknown_counts[name] == unknown
            assert (getattr(total, name) is None) == (unknown > 0)
            known = sum(
                (getattr(e, name) for e in todays if getattr(e, name) is not None), Decimal(0)
            )
            assert getattr(total.known_subtotal, name) == known


@given(moments, zones)
def test_a_dose_belongs_to_its_local_calendar_day(when, tz):
    (day,) = daily_totals([(when, Exposure.zero())], tz)
    assert day == when.astimezone(tz).date()
    # the same instant expressed in another offset lands on the same day
    (same,) = daily_totals([(when.astimezone(UTC), Exposure.zero())], tz)
    assert same == day
