"""SUMMER: Sparse Dynamic MoE + Hierarchical Cross-Modal Fusion + Interactive Knowledge Distillation.

Importing the package registers the model "summer", its text teacher "text-teacher", its ablations and
the variants of the paper's studies; `summer.subject` names them for the reports."""

from summer import ablations, distillation, model, studies  # noqa: F401  (registration)
