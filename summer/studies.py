"""The variants the studies train (docs/model.md, "Studies"), registered as switches on a model like
ablations, with origin STUDY: `run --all` leaves them out, `study` trains them.

- teacher modality (the paper's table 3): the teacher on t, a, v, t+a, t+v, t+a+v;
- SDMoE against plain attention (the paper's figure 4): each unimodal teacher with its SDMoE context
  encoder replaced by a self-attention transformer layer;
- IKD readings (the suite's): SUMMER with one distillation reading the sources leave open changed at a
  time from the default, beside the default and "w/o IKD".

A study variant's name starts with `STUDY_PREFIX`, so its row reads "text-teacher-on-audio", not
"text-teacher-no-...".
"""

from benchmark.models.contract import STUDY, Ablation, register_ablation
from benchmark.variants import FULL_MODEL, STUDY_PREFIX
from summer.distillation import MODALITY_SEPARATOR, STREAM, TEACHER
from summer.subject import SUBJECT, SUMMER

NO_IKD = SUBJECT.without_distillation  # the IKD study's baseline
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


# The distillation readings the specification leaves open, each one step from SUMMER's default
# (kappa = 1 for k2..k4, MSE and teacher head on `fused`, guided mask on raw scores):
# name -> (label, overrides, description).
IKD_READINGS = {
    f"{STUDY_PREFIX}kappa-{kappa}": (
        f"κ2..κ4 = {kappa}",
        {"kappa_logit": kappa, "kappa_latent": kappa, "kappa_head": kappa},
        f"every distillation term (KL, MSE, teacher head) weighted {kappa} instead of 1",
    )
    for kappa in (0.3, 0.1)
} | {
    f"{STUDY_PREFIX}text-stream": (
        "MSE, teacher head on the text stream",
        {"latent_target": STREAM},
        "MSE and teacher-head terms on the student's text stream after its SDMoE, not on `fused`",
    ),
    f"{STUDY_PREFIX}standardised-mask": (
        "mask on standardised scores",
        {"guidance_mask": "standardised"},
        "guided mask's 0.5 threshold on attention scores standardised per row (the pull stays raw)",
    ),
}
for name, (label, overrides, description) in IKD_READINGS.items():
    register_ablation(Ablation(name, label, SUMMER, overrides, description, STUDY))

# The runs each study trains: the model and its ablation names (FULL_MODEL: the model as it is).
STUDY_VARIANTS = {
    "modality": (TEACHER, tuple(modality_variant(m) for m in TEACHER_MODALITIES)),
    "sdmoe": (
        TEACHER,
        tuple(modality_variant(m) for m in UNIMODAL) + tuple(attention_variant(m) for m in UNIMODAL),
    ),
    "ikd": (SUMMER, (FULL_MODEL, NO_IKD, *IKD_READINGS)),
}
