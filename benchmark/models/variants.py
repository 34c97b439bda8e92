"""How a run key names a model's variants, below both the models and the run store: a model package
(summer/'s studies) names its variants without importing the store, and the store's `RunKey` names its
rows with the same two words."""

FULL_MODEL = "none"  # the ablation value of a run that drops nothing
STUDY_PREFIX = "on-"  # ablation names of study variants (a model on other inputs), not "drop X" rows
