"""Fusion baselines SUMMER is measured against; each file registers one model."""
