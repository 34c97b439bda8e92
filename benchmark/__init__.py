"""summer-bench: a reproducibility harness for multimodal emotion recognition in conversations.

A folder per layer, in the order data flows through them: data/ -> models/ (summer/ and baselines/
implement benchmark.models.modeling) -> training/ -> store/ -> report/. The models, the store and the
report never import training/ (tests/test_layers.py), so that reading a record or writing a report never
trains. executors/ run training's runs; commands/ is the command line.
"""

__version__ = "0.1.0"
