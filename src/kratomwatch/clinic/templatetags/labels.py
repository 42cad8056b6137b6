"""Labels for the codes records keep: people see "PHQ-9", never ``phq9``."""

from django import template

from kratomwatch.domain.questionnaires import UnknownInstrumentError, get_instrument

register = template.Library()


@register.filter
def instrument_name(instrument_id: str) -> str:
    """The short name of a questionnaire ("PHQ-9"), or its title."""
    try:
        instrument = get_instrument(instrument_id)
    except UnknownInstrumentError:
        return "Questionnaire no longer available"
    return instrument.short_title or instrument.title
