"""What a clinician chose to share with a patient about the patient's personal analyses."""

from django.db import models

from .base import Record
from .people import PatientProfile, User


class AnalysisRelease(Record):
    """The plain-language words about one patient's kratom amounts and pain that their
    clinician shared with them: stored as shown at that moment, so that the patient reads
    exactly what the clinician released, until the clinician shares newer words."""

    patient = models.ForeignKey(
        PatientProfile, on_delete=models.CASCADE, related_name="analysis_releases"
    )
    released_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    first_day = models.DateField(help_text="First day of the diary window analysed.")
    last_day = models.DateField(help_text="Last day of the diary window analysed.")
    lines = models.JSONField(help_text="The paragraphs the patient sees, in order.")

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["patient", "-created"])]

    def __str__(self) -> str:
        return f"Analysis shared on {self.created:%Y-%m-%d}"
