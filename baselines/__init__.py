"""Fusion baselines SUMMER is measured against; each file registers one model."""

from baselines import early_fusion, late_fusion, lmf, mmgcn, mult, multiemo, sdt, tfn  # noqa: F401  (registration)
