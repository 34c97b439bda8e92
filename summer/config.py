"""Every option of SUMMER in one typed config. Defaults are version 2 of the model as docs/model.md
describes it; each [choice] is named beside the option (or the code) that makes it."""

from __future__ import annotations

from dataclasses import dataclass

from benchmark.errors import BenchmarkError
from benchmark.models.contract import ModelDims
from summer.distillation import DistillationOptions
from summer.fusion import GUIDANCE_MASKS
from summer.moe import MoEOptions

# [choice] distillation temperature per dataset family: SDT's values (docs/model.md, "IKD")
TEMPERATURE = {"iemocap": 1.0, "meld": 8.0}
FUSIONS = ("hcmf", "self-attention", "concat")


@dataclass(frozen=True, kw_only=True)
class SummerConfig(ModelDims, MoEOptions, DistillationOptions):
    temperature: float
    use_sdmoe: bool = True  # False: one expert of the same kind and width in each SDMoE's place
    fusion: str = "hcmf"  # "self-attention" / "concat": the paper's and the suite's "w/o HCMF"
    guidance_mask: str = "raw"  # [choice] what the guided mask's 0.5 threshold compares (GUIDANCE_MASKS)

    def __post_init__(self) -> None:
        super().__post_init__()  # DistillationOptions checks its own options
        if self.fusion not in FUSIONS:
            raise BenchmarkError(f"unknown fusion {self.fusion!r}; valid: {', '.join(FUSIONS)}")
        if self.guidance_mask not in GUIDANCE_MASKS:
            raise BenchmarkError(
                f"unknown guidance_mask {self.guidance_mask!r}; valid: {', '.join(GUIDANCE_MASKS)}"
            )

    @property
    def teacher_guided(self) -> bool:
        """Cross-modal attention guided by the teacher's scores: HCMF with latent-space IKD on."""
        return self.fusion == "hcmf" and self.use_ikd and self.use_latent_kd
