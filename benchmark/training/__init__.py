"""Training: a run from its inputs to its stored record (`runner`), with the loop (`loop`), teachers,
devices (`execution`), missing-modality scores, t-SNE features and what a plan costs (`costs`)."""
