"""SUMMER's ablations: switches on the one model (docs/model.md, "Ablations"), never copies of it.

The paper's table 4 has four rows; the suite's users asked for four. "w/o IKD" is the same switch in
both (no teacher, no guided mask, no KL / MSE / teacher-head terms), so it is one row, `ikd`, marked as
both: seven names, eight rows. The reports list the rows in the order registered here.
"""

from benchmark.models.contract import PAPER, PAPER_AND_SUITE, SUITE, Ablation, register_ablation

for ablation in (
    Ablation(
        "standard-moe",
        "SDMoE → standard MoE",
        "summer",
        {"routing": "topk", "top_k": 2},
        "fixed top-2 softmax routing over the same BiGRU experts (no μ ± 2σ switch-off, no Gumbel noise)",
        PAPER,
    ),
    Ablation(
        "self-attention",
        "HCMF → self-attention",
        "summer",
        {"fusion": "self-attention"},
        "per-modality self-attention, concatenation, linear: no cross-modal attention, no Global MoE",
        PAPER,
    ),
    Ablation(
        "ikd",
        "w/o IKD",
        "summer",
        {"use_ikd": False},
        "no teacher: no guided attention mask, no KL, MSE or teacher-head terms",
        PAPER_AND_SUITE,
    ),
    Ablation(
        "label-smoothing",
        "w/o label smoothing",
        "summer",
        {"label_smoothing": 0.0},
        "plain cross-entropy (ε = 0)",
        PAPER,
    ),
    Ablation(
        "sdmoe",
        "w/o SDMoE",
        "summer",
        {"use_sdmoe": False},
        "one BiGRU of the same width in each SDMoE's place: no router, no mixture",
        SUITE,
    ),
    Ablation(
        "hcmf",
        "w/o HCMF",
        "summer",
        {"fusion": "concat"},
        "concatenation + linear: no cross-modal attention, no fusion levels, no Global MoE",
        SUITE,
    ),
    Ablation(
        "latent",
        "logit-only KD",
        "summer",
        {"use_latent_kd": False},
        "KL kept; no MSE, no teacher head on the student, no teacher-guided mask",
        SUITE,
    ),
):
    register_ablation(ablation)
