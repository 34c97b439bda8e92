"""summer-bench: a reproducibility harness for multimodal emotion recognition in conversations.

Layers, each importing only the ones before it:
data -> models (summer/, baselines/ via benchmark.models.modeling) -> training -> run store -> reports.
"""

__version__ = "0.1.0"
