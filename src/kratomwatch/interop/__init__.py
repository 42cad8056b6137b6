"""Data exchange: FHIR R4 export and import, CSV export and diary import.

- :mod:`.fhir_export` turns a patient's record into FHIR resources (a ``collection`` Bundle
  per patient, or NDJSON files per resource type for a whole clinic).
- :mod:`.fhir_import` reads medications and conditions from an EHR Bundle, with a dry-run
  report and an all-or-nothing apply.
- :mod:`.csv_export` exports records as CSV files; :mod:`.csv_import` imports a patient's
  diary from CSV.
- :mod:`.codes` holds the code systems. See docs/interoperability.md.
"""
