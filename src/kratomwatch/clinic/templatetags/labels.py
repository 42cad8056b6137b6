"""Labels for the codes records keep: people see "PHQ-9", never ``phq9``."""

from django import template
from django.utils.translation import gettext

from kratomwatch.clinic.data_msgids import data_text
from kratomwatch.domain.questionnaires import UnknownInstrumentError, get_instrument

register = template.Library()


@register.filter
def instrument_name(instrument_id: str) -> str:
    """The short name of a questionnaire ("PHQ-9"), or its title: a validated instrument's as
    published, the project's own checklists' in the reader's language."""
    try:
        instrument = get_instrument(instrument_id)
    except UnknownInstrumentError:
        return gettext("Questionnaire no longer available")
    name = instrument.short_title or instrument.title
    return name if instrument.validated else data_text(name)
