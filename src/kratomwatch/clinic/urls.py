from django.urls import path

from . import views, views_patient

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
    path("me/data/", views_patient.my_data, name="my_data"),
    path("me/data/delete/", views_patient.request_deletion, name="request_deletion"),
    path("me/data/export.zip", views_patient.my_data_csv, name="my_data_csv"),
    path("me/data/export.pdf", views_patient.my_data_pdf, name="my_data_pdf"),
    path("patients/", views.patient_list, name="patient_list"),
    path("patients/<uuid:patient_uuid>/", views.patient_detail, name="patient_detail"),
    path(
        "patients/<uuid:patient_uuid>/findings/<uuid:finding_uuid>/",
        views.finding_action,
        name="finding_action",
    ),
    path("findings/", views.findings_inbox, name="findings_inbox"),
    path("clinic/users/", views.clinic_users, name="clinic_users"),
    path("evidence/", views.evidence_library, name="evidence"),
    path("evidence/claims/", views.evidence_claims, name="evidence_claims"),
    path("evidence/rules/", views.evidence_rules, name="evidence_rules"),
]
