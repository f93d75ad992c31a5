"""ALOE: personalized alignment via interaction, as a data-versioned pipeline."""

__version__ = "0.1.0"
