from django.urls import path

from . import (
    views,
    views_admin,
    views_analysis,
    views_clinician,
    views_erasure,
    views_patient,
    views_report,
    views_trials,
)

urlpatterns = [
    path("", views.home, name="home"),
    path("me/", views.patient_home, name="patient_home"),
    path("me/checkin/", views_patient.checkin, name="checkin"),
    path("me/checkin/<uuid:checkin_uuid>/", views_patient.checkin_done, name="checkin_done"),
    path(
        "me/questionnaires/<slug:instrument_id>/",
        views_patient.questionnaire,
        name="questionnaire",
    ),
    path(
        "me/responses/<uuid:response_uuid>/",
        views_patient.questionnaire_done,
        name="questionnaire_done",
    ),
    path("me/products/", views_patient.products, name="my_products"),
    path("me/products/add/", views_patient.product_add, name="product_add"),
    path("me/plan/", views_patient.my_plan, name="my_plan"),
    path("me/trends/", views_patient.trends, name="trends"),
    path("me/trends/dose-response/", views_analysis.my_dose_response, name="my_dose_response"),
    path("me/trial/", views_trials.my_trial, name="my_trial"),
    path("me/trial/answer/", views_trials.trial_adherence, name="trial_adherence"),
    path("me/data/", views_patient.my_data, name="my_data"),
    path("me/data/delete/", views_patient.request_deletion, name="request_deletion"),
    path("me/data/export.zip", views_patient.my_data_csv, name="my_data_csv"),
    path("me/data/export.pdf", views_patient.my_data_pdf, name="my_data_pdf"),
    path("me/record-views/", views_patient.record_views, name="record_views"),
    path("patients/", views_clinician.panel, name="patient_list"),
    path("patients/<uuid:patient_uuid>/plan/", views_clinician.plan_edit, name="plan_edit"),
    path(
        "patients/<uuid:patient_uuid>/medications/",
        views_clinician.medication_add,
        name="medication_add",
    ),
    path(
        "patients/<uuid:patient_uuid>/medications/<uuid:med_uuid>/stop/",
        views_clinician.medication_stop,
        name="medication_stop",
    ),
    path(
        "patients/<uuid:patient_uuid>/conditions/",
        views_clinician.condition_set,
        name="condition_set",
    ),
    path(
        "patients/<uuid:patient_uuid>/pharmacogenomics/",
        views_clinician.pharmacogenomic_set,
        name="pharmacogenomic_set",
    ),
    path("patients/<uuid:patient_uuid>/notes/", views_clinician.note_add, name="note_add"),
    path("findings/acknowledge/", views_clinician.bulk_acknowledge, name="bulk_acknowledge"),
    path("patients/<uuid:patient_uuid>/", views.patient_detail, name="patient_detail"),
    path(
        "patients/<uuid:patient_uuid>/dose-response/",
        views_analysis.patient_dose_response,
        name="patient_dose_response",
    ),
    path(
        "patients/<uuid:patient_uuid>/dose-response/share/",
        views_analysis.release_dose_response,
        name="release_dose_response",
    ),
    path("patients/<uuid:patient_uuid>/trials/", views_trials.trial_design, name="trial_design"),
    path(
        "patients/<uuid:patient_uuid>/trials/confirm/",
        views_trials.trial_confirm,
        name="trial_confirm",
    ),
    path(
        "patients/<uuid:patient_uuid>/trials/<uuid:trial_uuid>/",
        views_trials.trial_detail,
        name="trial_detail",
    ),
    path(
        "patients/<uuid:patient_uuid>/trials/<uuid:trial_uuid>/stop/",
        views_trials.trial_stop,
        name="trial_stop",
    ),
    path(
        "patients/<uuid:patient_uuid>/report.pdf",
        views_report.visit_report_pdf,
        name="visit_report_pdf",
    ),
    path("patients/<uuid:patient_uuid>/report/", views_report.visit_report, name="visit_report"),
    path(
        "patients/<uuid:patient_uuid>/findings/<uuid:finding_uuid>/",
        views.finding_action,
        name="finding_action",
    ),
    path("findings/", views.findings_inbox, name="findings_inbox"),
    path("clinic/users/", views_admin.clinic_users, name="clinic_users"),
    path(
        "clinic/deletion-requests/", views_erasure.deletion_requests, name="deletion_requests"
    ),
    path(
        "clinic/deletion-requests/<uuid:request_uuid>/handle/",
        views_erasure.handle_deletion,
        name="handle_deletion",
    ),
    path("clinic/users/invite/", views_admin.invite, name="clinic_invite"),
    path("clinic/users/<uuid:user_uuid>/", views_admin.user_detail, name="clinic_user"),
    path(
        "clinic/users/<uuid:user_uuid>/care-team/",
        views_admin.care_team,
        name="clinic_care_team",
    ),
    path(
        "clinic/users/<uuid:user_uuid>/active/",
        views_admin.set_active,
        name="clinic_user_active",
    ),
    path(
        "clinic/users/<uuid:user_uuid>/invitation/",
        views_admin.reinvite,
        name="clinic_reinvite",
    ),
    path("invite/<uidb64>/<token>/", views_admin.invite_accept, name="invite_accept"),
    path("evidence/", views.evidence_library, name="evidence"),
    path("evidence/claims/", views.evidence_claims, name="evidence_claims"),
    path("evidence/rules/", views.evidence_rules, name="evidence_rules"),
]
