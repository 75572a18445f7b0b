"""Tests: unit tests on tiny inputs, and the real pipeline on a small real subset."""
