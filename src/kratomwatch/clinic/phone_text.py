"""The words the patient app's scripts show on the phone (the offline queue, the checks made
with no connection), given to them by the page in its language (``{% phone_texts %}``).

``{name}`` marks a value the script fills in.
"""

from __future__ import annotations

from django.utils.translation import gettext


def phone_texts() -> dict[str, str]:
    return {
        "offline": gettext(
            "You are offline. A check-in you save now is kept on this phone and sent when "
            "the connection returns."
        ),
        "urgent_link": gettext("Severe symptoms: see what to do now"),
        "saved_title": gettext("Saved on this phone, will be sent"),
        "saved_body": gettext(
            "Saved on this phone at {time}. It will be sent to your care team when the "
            "connection returns: open the app again when you are back online."
        ),
        "not_told": gettext(
            "Your care team has not been told yet. If you have any of the symptoms below, "
            "get medical help now: do not wait for the connection."
        ),
        "another": gettext("Start another check-in"),
        "not_kept": gettext(
            "This phone could not keep the check-in (its storage is full or blocked). It is "
            "not saved: try again when you are back online. If you have severe symptoms, get "
            "medical help now."
        ),
        "waiting": gettext("Check-ins saved on this phone, waiting to be sent: {n}."),
        "sent": gettext("Sent to your care team from this phone: {n} check-in(s)."),
        "refused": gettext("A check-in you entered on {date} could not be saved:"),
        "open": gettext("Open it to correct it"),
        "discard": gettext("Discard it"),
        "discard_confirm": gettext(
            "Discard the check-in you entered on {date}? It has not been sent and cannot be "
            "recovered."
        ),
        "logout_confirm": gettext(
            "{n} check-in(s) saved on this phone have not been sent yet. Logging out deletes "
            "them from this phone. Log out anyway?"
        ),
        "restored": gettext(
            "This check-in was entered on {date} and is not saved yet. Correct what is "
            "marked, then save it: it keeps the time it was entered."
        ),
        "errors_title": gettext("Your check-in is not saved yet"),
        "errors_intro": gettext("Everything you entered is still here. Please look at:"),
        "dose": gettext("Dose {n}"),
        "choose_answer": gettext("Choose one answer for this question."),
        "product": gettext("Choose the product."),
        "amount": gettext("Enter the amount."),
        "unit": gettext("Choose a unit."),
        "time": gettext("Enter the time you took it."),
        "comma": gettext(
            "The amount {amount} contains a comma, which is ambiguous (1,5 could mean 1.5 or "
            "15): write it with a dot as the decimal separator."
        ),
        "number": gettext("The amount {amount} is not a number: enter a number such as 2.5."),
        "positive": gettext("Enter an amount greater than 0."),
        "decimals": gettext("Use at most {n} decimal places."),
        "unit_not_allowed": gettext("Unit {unit} cannot be used for this product: use {units}."),
        "too_much": gettext(
            "{amount} {unit} is implausible for one dose of this product: accepted is at most "
            "{max} {unit}. Check the amount and the unit."
        ),
        "step": gettext(
            "{unit} is counted in steps of {step}: record the mass in g or mg instead."
        ),
        "future": gettext("This time is later than now."),
    }
