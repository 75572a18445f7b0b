"""Comparing every model on one test set: scores, the comparison itself, Teachable Machine exports as models."""
