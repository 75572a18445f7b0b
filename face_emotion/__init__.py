"""Explainable facial-emotion recognition: faces -> FACS Action Units -> emotions."""

__version__ = "0.1.0"
