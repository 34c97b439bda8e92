"""How a model variant is named: the ablation value of the full model, the prefix of a study variant, and
the row name a (model, ablation) pair takes in tables and in the store's folders.

The bottom layer: the store names its folders with it and `summer/studies.py` names its variants with it,
and neither may import the other."""

FULL_MODEL = "none"  # the ablation value of a run that drops nothing
STUDY_PREFIX = "on-"  # ablation names of study variants (a model on other inputs), not "drop X" rows


def variant_name(model: str, ablation: str) -> str:
    """The row name in tables: "summer", "summer-no-sdmoe", "text-teacher-on-audio", "tfn"."""
    if ablation == FULL_MODEL:
        return model
    if ablation.startswith(STUDY_PREFIX):
        return f"{model}-{ablation}"
    return f"{model}-no-{ablation}"
