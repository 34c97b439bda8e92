"""How a sweep's run keys get trained: `local` (the default) trains them here, one after another in this
process, or `--jobs N` at once in N worker processes on the same device; `ray` spreads them over a Ray
cluster as tasks (an optional extra: `pip install -e ".[ray]"`), N to a GPU.

Both skip keys whose record is stored (unless `force`), so a stopped sweep resumes where it stopped, and
both return the records in the order of the keys. Ray is imported only when its executor is chosen.
"""

from benchmark.executors.sweep import EXECUTORS, RUNS_PER_GPU, Placement, default_jobs, run_sweep

__all__ = ["EXECUTORS", "RUNS_PER_GPU", "Placement", "default_jobs", "run_sweep"]
