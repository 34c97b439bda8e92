"""SUMMER: Sparse Dynamic MoE + Hierarchical Cross-Modal Fusion + Interactive Knowledge Distillation."""
