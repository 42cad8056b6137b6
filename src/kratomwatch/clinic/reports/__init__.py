"""The clinician's reports about one patient."""
