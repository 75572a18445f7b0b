"""Thin entry points, one per dvc.yaml stage: ``python -m stages.<name>``."""
