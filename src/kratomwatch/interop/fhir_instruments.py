"""The instruments as FHIR R4 Questionnaires, without Django: used by the patient export,
the FHIR import, ``kratomwatch instruments fhir`` and ``GET /api/v1/fhir/Questionnaire``.

Each instrument is one Questionnaire with the canonical URL
``https://kratomwatch.org/fhir/Questionnaire/<instrument id>`` and the instrument's version;
its id is a name-based UUID of ``url|version``. The licence notice (copyright, status and
note of the instrument file) is its ``copyright``; wording the licence does not let us
redistribute is left out. Every Questionnaire is validated with the ``fhir.resources`` R4B
model before it is given out.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from kratomwatch.domain.questionnaires import Instrument, load_instruments

from . import codes as C

Resource = dict[str, Any]


def validated(resource: Resource) -> Resource:
    """``resource`` itself, once its R4B model has accepted it; raises if it does not."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def questionnaire_url(instrument_id: str) -> str:
    return f"{C.QUESTIONNAIRE_BASE}/{instrument_id}"


def questionnaire_id(instrument_id: str, version: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{questionnaire_url(instrument_id)}|{version}"))


def _computable_name(instrument_id: str) -> str:
    name = "".join(p[:1].upper() + p[1:] for p in re.split(r"[^A-Za-z0-9]+", instrument_id) if p)
    return name if name[:1].isalpha() else f"Q{name}"


def questionnaire_resource(instrument: Instrument) -> Resource:
    """The instrument's definition. Wording that may not be redistributed is left out."""
    free = instrument.licence.redistributable
    items = []
    for item in instrument.items:
        text = item.text if free else f"Item {item.id} (wording not redistributable)"
        entry: Resource = {"linkId": item.id, "required": item.required}
        if item.options:
            entry["type"] = "choice"
            entry["answerOption"] = [
                {"valueCoding": C.coding(C.CS_ANSWER, str(o.value), o.label if free else None)}
                for o in item.options
            ]
        else:
            entry["type"] = "integer"
            entry["extension"] = [
                {"url": C.MINVALUE_EXT, "valueInteger": item.min_value},
                {"url": C.MAXVALUE_EXT, "valueInteger": item.max_value},
            ]
            if free and (item.min_label or item.max_label):
                text += (
                    f" ({item.min_value} = {item.min_label or 'lowest'}; "
                    f"{item.max_value} = {item.max_label or 'highest'})"
                )
        entry["text"] = text
        items.append(entry)
    licence = instrument.licence
    copyright_text = "; ".join(x for x in (licence.copyright, licence.status, licence.note) if x)
    resource: Resource = {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(instrument.id, instrument.version),
        "url": questionnaire_url(instrument.id),
        "version": instrument.version,
        "name": _computable_name(instrument.id),
        "title": instrument.title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": instrument.description,
        "item": items,
    }
    if copyright_text:
        resource["copyright"] = copyright_text
    return resource


def instrument_questionnaires(instruments: Iterable[Instrument] | None = None) -> list[Resource]:
    """A validated Questionnaire for each instrument (every loaded one by default), by id."""
    chosen = list(load_instruments().values()) if instruments is None else list(instruments)
    return [validated(questionnaire_resource(i)) for i in sorted(chosen, key=lambda i: i.id)]


def questionnaire_bundle(questionnaires: list[Resource], timestamp: str) -> Resource:
    """The Questionnaires as a ``collection`` Bundle. Each entry's ``fullUrl`` is
    ``urn:uuid:<id>`` (the ids are UUIDs): the file has no server address, and the canonical
    ``url`` (ending in the instrument's name) would disagree with the resource's id."""
    return validated(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": timestamp,
            "entry": [{"fullUrl": f"urn:uuid:{q['id']}", "resource": q} for q in questionnaires],
        }
    )


def find_instrument(canonical: Any) -> tuple[Instrument | None, str]:
    """The instrument a ``questionnaire`` canonical names, or ``None`` and the reason.

    ``url|version`` must be the version in use; ``url`` alone means the version in use. Our
    Questionnaire's id (``Questionnaire/<uuid>``, ``urn:uuid:<uuid>``) is accepted too."""
    if not isinstance(canonical, str) or not canonical.strip():
        return None, "it does not say which questionnaire it answers"
    url, _, version = canonical.strip().partition("|")
    for instrument in load_instruments().values():
        ours = questionnaire_id(instrument.id, instrument.version)
        if url in (f"Questionnaire/{ours}", f"urn:uuid:{ours}"):
            return instrument, ""
        if url == questionnaire_url(instrument.id):
            if version and version != instrument.version:
                return None, (
                    f"it answers version {version} of {instrument.short_title or instrument.id};"
                    f" version {instrument.version} is in use"
                )
            return instrument, ""
    return None, f"{canonical} is not one of the KratomWatch questionnaires"
