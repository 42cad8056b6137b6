"""The patient's own app: check-in, questionnaires, products, plan, trends, data."""

from __future__ import annotations

from datetime import time, timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from kratomwatch.clinic import access, push
from kratomwatch.clinic.actions.erasure import do_request_deletion
from kratomwatch.clinic.actions.induction import open_plan
from kratomwatch.clinic.actions.language import do_set_language
from kratomwatch.clinic.actions.products import do_add_product
from kratomwatch.clinic.actions.reminders import do_set_reminder
from kratomwatch.clinic.actions.screening import active_plan, notes_about, screen_now_if_due
from kratomwatch.clinic.analysis_app import latest_release
from kratomwatch.clinic.charts import trend_svg
from kratomwatch.clinic.form_errors import error_summary
from kratomwatch.clinic.forms.doses import new_key
from kratomwatch.clinic.forms.patient import (
    DeletionRequestForm,
    LanguageForm,
    ProductCreateForm,
    ReminderForm,
)
from kratomwatch.clinic.lot_facts import attach_lots
from kratomwatch.clinic.models import PatientProfile, Role
from kratomwatch.clinic.screening_input import plan_limits
from kratomwatch.clinic.text import first_error
from kratomwatch.clinic.trends import daily_series, summary
from kratomwatch.clinic.views.common import client_ip, patient_of


@access.role_required(Role.PATIENT)
def products(request: HttpRequest) -> HttpResponse:
    user, patient = patient_of(request)
    screen_now_if_due(PatientProfile.objects.filter(pk=patient.pk))  # the notes are current
    patient.refresh_from_db(fields=["screening_notes"])
    products = list(patient.products.filter(archived=False))
    for product in products:
        # What a note tells the patient, if anything: e.g. that the product's strength is unknown.
        product.messages = [
            n["patient_message"]
            for n in notes_about(patient, "product", product.name)
            if n.get("patient_message")
        ]
    attach_lots(user, patient, products)
    return render(request, "patient/products.html", {"products": products})


@access.role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def product_add(request: HttpRequest) -> HttpResponse:
    user, patient = patient_of(request)
    if request.method == "POST":
        form = ProductCreateForm(request.POST)
        if form.is_valid():
            product, created = do_add_product(
                patient=patient,
                user=user,
                product=form.instance,
                key=form.cleaned_data["idempotency_key"],
                ip=client_ip(request),
            )
            if created:
                messages.success(request, gettext("Added %(name)s.") % {"name": product.name})
            else:
                messages.info(
                    request, gettext("%(name)s was already added.") % {"name": product.name}
                )
            return redirect("my_products")
        status = 400
    else:
        form = ProductCreateForm(initial={"idempotency_key": new_key()})
        status = 200
    errors = error_summary(form) if form.is_bound else []
    return render(
        request, "patient/product_add.html", {"form": form, "errors": errors}, status=status
    )


@access.role_required(Role.PATIENT)
def my_plan(request: HttpRequest) -> HttpResponse:
    _, patient = patient_of(request)
    plan = active_plan(patient)
    induction = open_plan(patient)
    return render(
        request,
        "patient/plan.html",
        {
            "plan": plan,
            "steps": plan_limits(plan).steps if plan else (),
            "induction": induction,
            "induction_doses": induction.log.filter(dose_mg__isnull=False) if induction else (),
            "withdrawal_scheduled": patient.questionnaire_schedules.filter(
                instrument_id="kw-withdrawal", active=True
            ).exists(),
        },
    )


@access.role_required(Role.PATIENT)
def trends(request: HttpRequest) -> HttpResponse:
    _, patient = patient_of(request)
    try:
        weeks = int(request.GET.get("weeks", "4"))
    except ValueError:
        weeks = 4
    if weeks not in (2, 4, 12):
        weeks = 4
    last = timezone.localdate()
    first = last - timedelta(days=7 * weeks - 1)
    series = daily_series(patient, first, last)
    # Drawn narrow so that its labels stay readable on a phone.
    svg = trend_svg(
        series,
        gettext("Pain, interference and daily dose over %(weeks)d weeks") % {"weeks": weeks},
        width=360,
        height=300,
    )
    mg_days = sum(v is not None and v > 0 for v in series.mitragynine_mg)
    return render(
        request,
        "patient/trends.html",
        {
            "weeks": weeks,
            "svg": svg,
            "summary": summary(series),
            "mg_days": mg_days,
            "mg_total": sum(v for v in series.mitragynine_mg if v is not None) / max(1, mg_days),
            # What the clinician shared about kratom and pain: one small query, drawn in the
            # page (loaded apart, it moved the page under the patient's thumb).
            "release": latest_release(patient),
            "has_trial": patient.nof1_trials.exists(),
        },
    )


@access.role_required(Role.PATIENT)
@require_http_methods(["GET", "POST"])
def my_data(request: HttpRequest) -> HttpResponse:
    user, patient = patient_of(request)
    reminder = ReminderForm(
        initial={
            "reminder_time": patient.reminder_time.strftime("%H:%M")
            if patient.reminder_time
            else "",
            "email": user.email,
            "by_email": patient.remind_by_email,
            "by_push": patient.remind_by_push,
        }
    )
    if request.method == "POST":
        reminder = ReminderForm(request.POST)
        if reminder.is_valid():
            raw = reminder.cleaned_data["reminder_time"]
            do_set_reminder(
                patient=patient,
                user=user,
                at=time.fromisoformat(raw) if raw else None,
                email=reminder.cleaned_data["email"],
                by_email=reminder.cleaned_data["by_email"],
                by_push=reminder.cleaned_data["by_push"],
            )
            messages.success(
                request,
                gettext("Reminder set for %(time)s every day.") % {"time": raw}
                if raw
                else gettext("Daily reminder turned off."),
            )
            return redirect("my_data")
    return render(
        request,
        "patient/my_data.html",
        {
            "reminder": reminder,
            "errors": error_summary(reminder) if reminder.is_bound else [],
            "patient": patient,
            "language": LanguageForm(initial={"language": patient.language}),
            "deletion": patient.deletion_requests.order_by("-created").first(),
            "vapid_key": push.public_key(),
            "devices": user.push_subscriptions.count(),
        },
        status=400 if request.method == "POST" else 200,
    )


@access.role_required(Role.PATIENT)
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    user, patient = patient_of(request)
    form = LanguageForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            gettext("Your language was not changed. %(error)s") % {"error": first_error(form)},
        )
        return redirect("my_data")
    do_set_language(patient=patient, user=user, language=form.cleaned_data["language"])
    translation.activate(patient.language)  # the message below is already in the new language
    messages.success(request, gettext("Your pages and e-mails are now in this language."))
    return redirect("my_data")


@access.role_required(Role.PATIENT)
@require_POST
def request_deletion(request: HttpRequest) -> HttpResponse:
    user, patient = patient_of(request)
    form = DeletionRequestForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, gettext("Your request was not sent. %(error)s") % {"error": first_error(form)}
        )
        return redirect("my_data")
    do_request_deletion(
        patient=patient, user=user, reason=form.cleaned_data["reason"], ip=client_ip(request)
    )
    messages.success(
        request,
        gettext(
            "Your request was sent to your clinic. They will contact you: "
            "some records may have to be kept for a time by law."
        ),
    )
    return redirect("my_data")


@access.role_required(Role.PATIENT)
def my_data_csv(request: HttpRequest) -> HttpResponse:
    user, patient = patient_of(request)
    from kratomwatch.clinic.exports import patient_csv_zip

    # The export itself writes the audit event (csv.export) with the patient as the actor.
    response = HttpResponse(patient_csv_zip(patient, actor=user), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="kratomwatch-my-data.zip"'
    return response


@access.role_required(Role.PATIENT)
def my_data_pdf(request: HttpRequest) -> HttpResponse:
    user, patient = patient_of(request)
    from kratomwatch.clinic import audit_chain
    from kratomwatch.clinic.exports import patient_pdf

    audit_chain.append(
        user,
        "patient.export_pdf",
        patient=patient,
        object_type="patient",
        object_uuid=patient.uuid,
        ip=client_ip(request),
    )
    response = HttpResponse(patient_pdf(patient), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="kratomwatch-my-data.pdf"'
    return response


@access.role_required(Role.PATIENT)
def record_views(request: HttpRequest) -> HttpResponse:
    """Who viewed or exported my record, and when: from the audit trail, newest first."""
    user, patient = patient_of(request)
    from django.core.paginator import Paginator

    from kratomwatch.clinic.audit_chain import VIEW_ACTIONS
    from kratomwatch.clinic.audit_chain import record_views as views_of

    page = Paginator(views_of(patient), 50).get_page(request.GET.get("page"))
    rows = []
    for event in page:
        actor = event.actor
        if actor is None and event.action.startswith("cds."):
            who, role = gettext("The clinic's EHR"), "—"
        elif actor is None:
            who, role = gettext("Clinic staff, on the server's command line"), "—"
        elif actor.pk == user.pk:
            who, role = gettext("You"), actor.get_role_display()
        else:
            who, role = actor.get_full_name() or actor.username, actor.get_role_display()
        rows.append(
            {"at": event.at, "who": who, "role": role, "what": gettext(VIEW_ACTIONS[event.action])}
        )
    return render(request, "patient/record_views.html", {"page": page, "rows": rows})
