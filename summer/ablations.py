"""SUMMER's four ablations: switches on the one model (design "Ablations")."""

from benchmark.modeling import Ablation, register_ablation

register_ablation(
    Ablation("sdmoe", "w/o SDMoE", "summer", {"use_sdmoe": False}, "dense feed-forward of the same width")
)
register_ablation(
    Ablation("hcmf", "w/o HCMF", "summer", {"use_hcmf": False}, "concatenation + linear fusion")
)
register_ablation(Ablation("ikd", "w/o IKD", "summer", {"use_ikd": False}, "no teacher, cross-entropy only"))
register_ablation(
    Ablation("latent", "logit-only KD", "summer", {"use_latent_kd": False}, "no latent-space term")
)
