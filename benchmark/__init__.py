"""summer-bench: a reproducibility harness for multimodal emotion recognition in conversations.

A folder per layer, in the order data flows through them: data/ -> models/ (summer/ and baselines/
implement benchmark.models.contract) -> training/ -> store/ -> report/. The models, the store and the
report never import training/ (tests/test_layers.py), so that reading a record or writing a report never
trains. executors/ run training's runs; commands/ is the command line.
"""

import os

__version__ = "0.1.0"

# [why] torch's OpenMP threads wait for work by spinning on their core (the default wait policy). When
# the threads of a process outnumber the cores it actually gets (other runs, other users' jobs), a
# spinning thread holds a core that the thread it waits for needs: measured on two shared cores, a smoke
# run trained ten times slower on two threads than on one (docs/measurements.md, issue 31). PASSIVE
# threads sleep instead; what they compute, and so every metric, is the same. Set here, before any
# module imports torch (OpenMP reads it once, when torch loads it), and inherited by every worker
# process; an explicit OMP_WAIT_POLICY in the environment is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
