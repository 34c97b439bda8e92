"""Every option of SUMMER in one typed config. Defaults are the [choice]s of ../shared/design/summer.md."""

from __future__ import annotations

from dataclasses import dataclass

from benchmark.modeling import ModelDims

# Distillation temperature per dataset family [choice: SDT's values, design "Interactive Knowledge Distillation"]
TEMPERATURE = {"iemocap": 1.0, "meld": 8.0}


@dataclass(frozen=True)
class SummerConfig(ModelDims):
    temperature: float
    use_sdmoe: bool = True
    use_hcmf: bool = True
    use_ikd: bool = True
    use_latent_kd: bool = True  # False with use_ikd: logit-only distillation
    experts: int = 4
    k_max: int = 2
    route_threshold: float = 0.5  # dynamic routing: smallest expert set reaching this probability, <= k_max
    ffn_multiplier: int = 2  # d_ff = 2d
    lambda_latent: float = 1.0
    lambda_logit: float = 1.0
    lambda_moe: float = 0.01
    teacher_modality: str = "text"
