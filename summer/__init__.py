"""SUMMER: Sparse Dynamic MoE + Hierarchical Cross-Modal Fusion + Interactive Knowledge Distillation.

Importing the package registers the model "summer" and its ablations."""

from summer import ablations, model  # noqa: F401  (registration)
