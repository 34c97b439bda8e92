"""Fusion baselines SUMMER is measured against; each file registers one model."""

from baselines import text_teacher  # noqa: F401  (registration)
