"""Creating a record once per idempotency key: the one way every ``do_*`` that creates does it.

A form or API request may be sent twice (a double tap, a retry after a lost answer), perhaps at
the same moment. Each record that can be created that way carries a key that is unique per
patient; the creation and its audit event run in one transaction, and a second creation with
the same key fails on the unique constraint and is answered with the record first stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, models, transaction

M = TypeVar("M", bound=models.Model)

#: The length of the idempotency key column of every record.
KEY_LENGTH = 80


def derived_key(key: str, suffix: str) -> str:
    """The key of a record created along with the one whose key is ``key`` (an answer, a dose
    or a red flag of a check-in: ``suffix`` names which). Always fits the key column and stays
    distinct per suffix: where ``key`` and ``suffix`` together are too long, ``key`` is
    replaced by the first 40 hex characters of its SHA-256, so nothing is cut off and two
    suffixes never end in the same key. Keys that fit are kept as they are."""
    if len(key) + len(suffix) <= KEY_LENGTH:
        return key + suffix
    short = hashlib.sha256(key.encode()).hexdigest()[:40] + suffix
    if len(short) > KEY_LENGTH:
        raise ValueError(f"Suffix {suffix!r} is too long for a record key.")
    return short


def create_once(
    stored: models.QuerySet[M], key: str, create: Callable[[], M], *, look_first: bool = True
) -> tuple[M, bool]:
    """Run ``create`` in a transaction unless ``stored`` (the patient's records of this kind)
    already holds one with this idempotency key. Returns the record and whether it is new.

    ``look_first`` looks the key up before creating, which spares the work of a creation that
    would be rolled back; without it, a repeat is caught by the constraint alone (the cheaper
    path when repeats are rare and the creation is small).
    """
    if look_first:
        existing = stored.filter(idempotency_key=key).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            return create(), True
    except IntegrityError:
        # A repeat with the same key, perhaps concurrent: answer with the first record.
        return stored.get(idempotency_key=key), False
