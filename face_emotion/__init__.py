"""Explainable facial-emotion recognition: faces -> FACS Action Units -> emotions."""
