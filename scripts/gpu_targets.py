"""Every target of issue 21 measured in one go, in a few minutes on one GPU (defaults), each figure printed
with the command that gave it:

1. SUMMER's training epoch against the SDT-style baseline's (`sdt`), paper width, IEMOCAP and MELD, in
   the same run (`epoch_speed.py`); target: at most 1.5x. (The issue compares with SDT's own training
   loop, which is not part of this suite; its measurement put our `sdt` at 1.17x that loop.)
2. The `run --all` sweep at the fast profile on the device, with the default --jobs; target: 3 minutes.
3. This device's per-epoch cost table (`run_cost.py` at the paper profile, into a temporary file), and
   from it the estimated training time of `run --all --profile paper`; target: 4 GPU-hours.
4. The CUDA kernels one SUMMER training step launches, by part of the model, at the fast and the paper
   width (`step_ops.py`): what CUDA graphs or `torch.compile` would have to remove.

    python scripts/gpu_targets.py                      # on a GPU: the real thing
    python scripts/gpu_targets.py --device cpu --tiny  # anywhere: the same steps at smoke size
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def step(title: str, command: list[str]) -> float:
    print(f"\n## {title}\n$ {' '.join(command)}", flush=True)
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tiny", action="store_true", help="smoke-size stand-ins, to see the script run")
    args = parser.parse_args()
    # (profile, extra arguments) of each step: the targets, or the smallest stand-ins
    speed = ("paper", ["--epochs", "3"])
    sweep = ("fast", ["--all"])
    costs_at = ("paper", [])
    step_widths = ["--profile", "fast", "--profile", "paper"]
    if args.tiny:
        step_widths = ["--profile", "smoke"]
        speed = ("smoke", ["--epochs", "1", "--dataset", "synthetic-iemocap"])
        sweep = ("smoke", ["--model", "early-fusion", "--dataset", "synthetic-iemocap", "--seeds", "0"])
        costs_at = ("smoke", ["--model", "early-fusion", "--dataset", "synthetic-iemocap"])
    python = sys.executable
    with tempfile.TemporaryDirectory() as scratch:
        step(
            "1. SUMMER vs sdt training epochs",
            [python, str(HERE / "epoch_speed.py"), "--device", args.device, "--profile", speed[0], *speed[1]],
        )
        seconds = step(
            f"2. run at the {sweep[0]} profile (target: 180 s for --all at fast)",
            [python, "-m", "benchmark", "run", *sweep[1], "--profile", sweep[0], "--device", args.device]
            + ["--home", str(Path(scratch) / "home")],
        )
        print(f"sweep wall clock: {seconds:.0f} s")
        costs = Path(scratch) / "costs.json"
        step(
            f"3. per-epoch costs at the {costs_at[0]} profile",
            [
                python,
                str(HERE / "run_cost.py"),
                "--device",
                args.device,
                "--profile",
                costs_at[0],
                *costs_at[1],
            ]
            + ["--steps", "3", "--output", str(costs)],
        )
        paper_sweep_estimate(costs_at[0], costs, args.device, Path(scratch) / "home")
    step(
        "4. operators and kernels per SUMMER training step",
        [python, str(HERE / "step_ops.py"), "--device", args.device, *step_widths],
    )


def paper_sweep_estimate(profile: str, costs: Path, device: str, home_root: Path) -> None:
    """`run --all` at `profile`: its estimated training time from the measured table (target: 4 h)."""
    from benchmark.experiment.catalog import MODELS
    from benchmark.home import Home
    from benchmark.training.costs import cost_table, device_kind, estimate, read_costs, with_teachers
    from benchmark.training.device_settings import Execution
    from benchmark.training.runner import DEFAULT_DATASETS, plan, resolve_runs

    keys = plan(MODELS.names(), DEFAULT_DATASETS, profile)
    kind = device_kind(Execution(device, deterministic=False).resolved(), 2)
    plans = [run.plan for run in resolve_runs(keys, Home(home_root))]
    figure = estimate(with_teachers(plans), kind, cost_table(read_costs(costs)))
    print(f"\n## run --all --profile {profile}: {len(keys)} runs\n{figure.describe(kind)}")
    print(f"= {figure.seconds / 3600:.2f} device-hours one run at a time (target: 4)")


if __name__ == "__main__":
    main()
