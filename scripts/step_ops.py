"""What one SUMMER training step dispatches, by source: torch.profiler over one step (forward, loss,
backward, optimizer step) on synthetic IEMOCAP, counting operator calls per part of the model.

On a GPU each operator that computes becomes one or more kernel launches, so on the CPU the count is a
device-independent proxy for launches; with `--device cuda` the table also counts the CUDA kernels each
part launched. Columns:

- forward / backward: the aten operators called from Python (forward) and by the autograd engine
  (backward, each charged to the part whose forward recorded it), nested calls not counted;
- computing: the innermost aten operators that are not views or allocations (what launches kernels);
- ms: their CPU time in this step (`--threads`, default 1; say the machine's load beside it);
- kernels (CUDA only): device kernels launched.

The expert recurrence is its own row: on the CPU a training GRU unrolls into per-step operators (most of
the backward count), where CUDA runs it as cuDNN's RNN kernels.

    python scripts/step_ops.py [--profile fast --profile paper] [--batch 16] [--device cpu|cuda]
        [--threads 1] [--set KEY=VALUE]
"""

from __future__ import annotations

import argparse
import ast
import bisect
import collections
import dataclasses
import functools
import re
import tempfile
from pathlib import Path

import torch
from epoch_speed import parse_setting, prepare
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("benchmark", "summer")

# The parts of a step, in the table's order: each is the qualified names of the functions whose calls it
# counts (the innermost such function on the Python stack decides).
PARTS: dict[str, tuple[str, ...]] = {
    "batch to device": ("benchmark/data/collate.py:",),
    "input encoders": (
        "benchmark/models/layers.py:UtteranceEncoder.",
        "benchmark/models/layers.py:sinusoidal_positions",
    ),
    "SDMoE routing (router, band, Gumbel, mixing, balance)": (
        "summer/moe.py:sigma_band",
        "summer/moe.py:gumbel_weights",
        "summer/moe.py:threshold_routing",
        "summer/moe.py:top_k_routing",
        "summer/moe.py:balance_loss",
        "summer/moe.py:SparseDynamicMoE.",
    ),
    "gathers and scatters (packing, [mask], padding back)": (
        "summer/moe.py:pack_dialogues",
        "summer/moe.py:scatter_real",
        "summer/moe.py:fused_expert_outputs",
        "summer/moe.py:separate_expert_outputs",
        "summer/moe.py:run_context_blocks",
        "summer/moe.py:BiGRUExpert.",
        "summer/moe.py:DialoguePacking.",
    ),
    "expert weights (block-diagonal, one buffer)": (
        "summer/moe.py:fused_bigru_weights",
        "summer/moe.py:in_one_buffer",
        "summer/moe.py:fused_bigru",
    ),
    "residual and norm around each SDMoE": ("summer/moe.py:ContextBlock.", "summer/moe.py:SingleExpert."),
    "teacher-guided mask": ("summer/fusion.py:teacher_guided_scores", "summer/fusion.py:standardised_rows"),
    "teacher's cached outputs": ("summer/distillation.py:FrozenTeacher.",),
    "fusion (cross-modal attention, gates)": ("summer/fusion.py:",),
    "classifier, balance sum": ("summer/model.py:",),
    "IKD terms": ("summer/distillation.py:distillation_losses",),
    "loss (cross-entropy, sum of terms)": ("benchmark/training/loop.py:",),
    "optimizer step": ("torch/optim/",),
}
RECURRENCE = "expert recurrence (the GRU kernel)"
ACCUMULATION = "gradient accumulation into parameters"
OTHER = "other"
ALL_KERNELS = "all kernels"  # not a part: the step's total on CUDA
# Operators that only make views or allocate: no kernel on any device.
NO_KERNEL = frozenset(
    "aten::" + name
    for name in (
        "empty empty_strided empty_like as_strided view _reshape_alias reshape t transpose permute expand "
        "slice select narrow unsqueeze squeeze unflatten flatten detach alias resolve_conj resolve_neg "
        "split split_with_sizes chunk unbind lift_fresh to _to_copy_noop view_as numpy_T _unsafe_view "
        "diagonal movedim"
    ).split()
)
FRAME = re.compile(r"^(?P<file>.*)\((?P<line>\d+)\): (?P<function>.*)$")


@functools.cache
def functions(path: str) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function in a source file, outermost first."""
    found: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                found.append((first, child.end_lineno or child.lineno, prefix + child.name))
                visit(child, f"{prefix}{child.name}.")

    visit(ast.parse(Path(path).read_text()), "")
    return found


def qualified_name(path: str, line: int) -> str:
    """The innermost function of `path` holding `line` (a comprehension is charged to its function)."""
    holding = [name for first, last, name in functions(path) if first <= line <= last]
    return holding[-1] if holding else "<module>"


def where(event) -> str:
    """'file:Qualified.name' of the innermost project or optimizer frame above `event`, or ''."""
    frame = event.cpu_parent
    while frame is not None:
        match = FRAME.match(frame.name)
        if match:
            path = match["file"]
            if "torch/optim/" in path:
                return "torch/optim/"
            source = (ROOT / path).resolve()  # the profiler names files relative to their package root
            if source.is_relative_to(ROOT) and source.parts[len(ROOT.parts)] in PACKAGES:
                name = qualified_name(str(source), int(match["line"]))
                if name != "Dropout.forward":  # generic: charged to the layer that drops out
                    return f"{source.relative_to(ROOT)}:{name}"
        frame = frame.cpu_parent
    return ""


def part_of(event) -> str:
    if event.name == "aten::gru" or any_ancestor(event, lambda e: e.name == "aten::gru"):
        return RECURRENCE
    place = where(event)
    for part, prefixes in PARTS.items():
        if any(place.startswith(prefix) for prefix in prefixes):
            return part
    return OTHER


def any_ancestor(event, test) -> bool:
    parent = event.cpu_parent
    while parent is not None:
        if test(parent):
            return True
        parent = parent.cpu_parent
    return False


def is_op(event) -> bool:
    return event.name.startswith("aten::")


def backward_node(event):
    """The autograd node whose backward called `event`, or None in the forward."""
    parent = event.cpu_parent
    while parent is not None and not parent.name.startswith("autograd::engine::evaluate_function"):
        parent = parent.cpu_parent
    return parent


def count(events) -> dict[str, collections.Counter]:
    """Part -> Counter of forward, backward, computing, ms, kernels."""
    forward_ops = {}  # sequence number -> the forward operator that recorded that autograd node
    for event in events:
        if is_op(event) and event.sequence_nr >= 0 and backward_node(event) is None:
            forward_ops.setdefault(event.sequence_nr, event)
    numbers = sorted(forward_ops)
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for event in events:
        if not is_op(event):
            continue
        node = backward_node(event)
        if node is None:
            part = part_of(event)
        elif node.name.endswith("AccumulateGrad"):
            part = ACCUMULATION
        else:
            # a node no operator recorded itself (an in-place write into a view: CopySlices) belongs
            # to the operator recorded just before it
            before = bisect.bisect_right(numbers, node.sequence_nr) - 1
            part = part_of(forward_ops[numbers[before]]) if before >= 0 else OTHER
        row = table[part]
        if not any_ancestor(event, is_op):
            row["backward" if node is not None else "forward"] += 1
        if event.name not in NO_KERNEL and not any(is_op(child) for child in event.cpu_children):
            row["computing"] += 1
            row["ms"] += event.self_cpu_time_total / 1000
        row["kernels"] += len(event.kernels)
    return table


def profile_step(profile_name: str, batch: int, device: str, threads: int, overrides: dict, home: str):
    from benchmark.training.loop import make_optimizer, train_epoch, with_class_weights

    model, dataset, splits, train, execution, order = prepare(
        "summer", "synthetic-iemocap", profile_name, home, device, "fp32", overrides
    )
    torch.set_num_threads(threads)
    train = with_class_weights(dataclasses.replace(train, batch_size=batch), dataset)
    optimizer = make_optimizer(model, train)
    dialogues = splits["train"][:batch]

    def step() -> None:  # one batch: train_epoch's own forward, loss, backward and optimizer step
        train_epoch(model, dialogues, optimizer, train, order, execution)
        if execution.is_cuda:
            torch.cuda.synchronize()

    step()  # warm-up: the teacher's outputs cached, the kernels chosen
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if execution.is_cuda else [])
    with profile(activities=activities, with_stack=True) as profiler:
        step()
    events = profiler.events()
    table = count(events)
    if execution.is_cuda:  # every kernel of the step, whether or not an operator above launched it
        table[ALL_KERNELS]["kernels"] = sum(1 for e in events if e.device_type == DeviceType.CUDA)
    return table, execution


def print_table(table: dict[str, collections.Counter], cuda: bool) -> None:
    columns = ["forward", "backward", "computing", "ms"] + (["kernels"] if cuda else [])
    print("| part | " + " | ".join(columns) + " |\n|---|" + "---|" * len(columns))
    order = [*PARTS, RECURRENCE, ACCUMULATION, OTHER]
    total: collections.Counter = collections.Counter()
    for part in order:
        if part in table:
            total.update(table[part])
            print(f"| {part} | " + " | ".join(cell(table[part][c], c) for c in columns) + " |")
    print("| **total** | " + " | ".join(f"**{cell(total[c], c)}**" for c in columns) + " |")
    if cuda:
        print(f"CUDA kernels launched in the step: {table[ALL_KERNELS]['kernels']:,}")


def cell(value: float, column: str) -> str:
    return f"{value:.1f}" if column == "ms" else f"{int(value):,}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profile", action="append", help="whose width (default: fast and paper)")
    parser.add_argument("--batch", type=int, default=16, help="dialogues in the step (default 16)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="an option of SUMMER's config"
    )
    args = parser.parse_args()
    overrides = dict(parse_setting(setting) for setting in args.set)
    with tempfile.TemporaryDirectory() as home:
        for profile_name in args.profile or ["fast", "paper"]:
            table, execution = profile_step(
                profile_name, args.batch, args.device, args.threads, overrides, home
            )
            described = execution.describe()
            print(
                f"\nSUMMER, one training step at the {profile_name} width, synthetic-iemocap, batch "
                f"{args.batch}, {described['device_name']}, {args.threads} thread(s)"
                + "".join(f", {k}={v}" for k, v in overrides.items())
            )
            print_table(table, execution.is_cuda)


if __name__ == "__main__":
    main()
