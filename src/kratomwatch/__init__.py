"""KratomWatch: clinician-supervised monitoring and safety for people who use kratom for pain."""

__version__ = "0.1.0"
