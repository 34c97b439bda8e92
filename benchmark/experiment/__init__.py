"""What the names of a run key mean: which models, ablations and datasets exist (`catalog`, the one place
that imports every model package) and what each profile trains with (`profiles`). Above the model
packages, below everything that plans, trains or reports runs."""
