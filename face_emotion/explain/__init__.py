"""Explanations of an AU model: reasons per face, profiles per emotion and their FACS agreement, figures."""
