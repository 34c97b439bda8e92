"""The variants the paper's two studies train (docs/model.md, "Studies"), registered as switches on the
teacher model like ablations, with origin STUDY: `run --all` leaves them out, `study` trains them.

- teacher modality (the paper's table 3): the teacher on t, a, v, t+a, t+v, t+a+v;
- SDMoE against plain attention (the paper's figure 4): each unimodal teacher with its SDMoE context
  encoder replaced by a self-attention transformer layer.

A study variant's name starts with `STUDY_PREFIX`, so its row reads "text-teacher-on-audio", not
"text-teacher-no-...".
"""

from benchmark.modeling import STUDY, Ablation, register_ablation
from benchmark.records import FULL_MODEL, STUDY_PREFIX
from summer.distillation import MODALITY_SEPARATOR, TEACHER

SHORT = {"text": "t", "audio": "a", "visual": "v"}
TEACHER_MODALITIES = ("text", "audio", "visual", "text+audio", "text+visual", "text+audio+visual")
UNIMODAL = ("text", "audio", "visual")


def modality_variant(modalities: str) -> str:
    """The ablation name of the teacher trained on `modalities` (the text teacher itself is the full model)."""
    return FULL_MODEL if modalities == "text" else f"{STUDY_PREFIX}{modalities}"


def attention_variant(modality: str) -> str:
    return f"{STUDY_PREFIX}{modality}-attention"


def short_label(modalities: str) -> str:
    return "+".join(SHORT[m] for m in modalities.split(MODALITY_SEPARATOR))


for modalities in TEACHER_MODALITIES[1:]:
    register_ablation(
        Ablation(
            modality_variant(modalities),
            f"teacher on {short_label(modalities)}",
            TEACHER,
            {"modalities": modalities},
            f"the teacher model trained on {modalities} instead of text (table 3)",
            STUDY,
        )
    )
for modality in UNIMODAL:
    register_ablation(
        Ablation(
            attention_variant(modality),
            f"{SHORT[modality]}, plain attention",
            TEACHER,
            {"modalities": modality, "use_sdmoe": False},
            f"the {modality} teacher with a self-attention layer in its SDMoE's place (figure 4)",
            STUDY,
        )
    )


# The runs each study trains, as ablation names of the teacher model (FULL_MODEL: the text teacher).
STUDY_VARIANTS = {
    "modality": tuple(modality_variant(m) for m in TEACHER_MODALITIES),
    "sdmoe": tuple(modality_variant(m) for m in UNIMODAL) + tuple(attention_variant(m) for m in UNIMODAL),
}
