from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("me/", views.patient_home, name="patient_home"),
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
