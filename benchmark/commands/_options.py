"""The command line's parser and the options shared by the commands that train. Every option is
checked where it is parsed: its type and range by its argparse type, a repeat by the parser's actions,
and options that depend on each other by the command's `check_options` (benchmark/commands/cli.py)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from pathlib import Path

from benchmark.errors import BenchmarkError
from benchmark.seeding import MOST_THREADS, SEED_MAX

_GIVEN = "_options_given"  # the namespace's record of the single-valued options seen so far


class OptionParser(argparse.ArgumentParser):
    """argparse, with a mistake as one line (`PROG: error: ...`, exit status 2) instead of the usage
    block, and with every option refusing what argparse takes in silence: a single-valued option given
    twice (argparse keeps the last), the same value twice in a repeatable option or a list, and an empty
    value (which would stand for the project folder, or for nothing)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, _StoreOnce)
        self.register("action", "store", _StoreOnce)
        self.register("action", "append", _AppendUnique)

    def error(self, message: str):
        hint = " (`python -m benchmark COMMAND --help` lists a command's options)"
        hint = hint if message.startswith("unrecognized arguments") else ""
        self.exit(2, f"{self.prog}: error: {message}{hint}\n")


def _refuse_empty_and_repeated(action: argparse.Action, values) -> None:
    items = values if isinstance(values, list) else [values]
    if any(isinstance(v, str) and not v.strip() and v != action.const for v in items):
        raise argparse.ArgumentError(action, "an empty value: give one, or leave the option out")
    repeated = next((v for i, v in enumerate(items) if v in items[:i]), None)
    if repeated is not None:
        raise argparse.ArgumentError(action, f"{repeated} given twice: give each value once")


class _StoreOnce(argparse._StoreAction):
    def __call__(self, parser, namespace, values, option_string=None) -> None:
        given = vars(namespace).setdefault(_GIVEN, set())
        if self.dest in given:
            raise argparse.ArgumentError(self, "given twice, and it takes one value: give it once")
        given.add(self.dest)
        _refuse_empty_and_repeated(self, values)
        super().__call__(parser, namespace, values, option_string)


class _AppendUnique(argparse._AppendAction):
    def __call__(self, parser, namespace, values, option_string=None) -> None:
        _refuse_empty_and_repeated(self, [*(getattr(namespace, self.dest) or []), values])
        super().__call__(parser, namespace, values, option_string)


def counted(minimum: int, maximum: int | None = None, what: str = ""):
    """An argparse type: an integer from `minimum` to `maximum` (`what` says why the bound), else one line."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below {minimum}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{value} is above {maximum}{what}")
        return value

    return parse


seed = counted(0, SEED_MAX, what=", the largest seed numpy takes")


def path(text: str) -> Path:
    """An argparse type: a path, never empty (`Path("")` is the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path: give a file or folder")
    return Path(text)


def device(text: str) -> str:
    """An argparse type: auto, cpu, cuda or cuda:N (whether this machine has that GPU is told when the runs'
    device is resolved, where they compute)."""
    if re.fullmatch(r"auto|cpu|cuda(:\d+)?", text) is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a device: use auto, cpu, cuda or cuda:N")
    return text


def names(text: str) -> tuple[str, ...]:
    """An argparse type: `NAME,NAME,...`, each name given once: a blank or repeated name would shift or
    merge what the list maps."""
    items = tuple(name.strip() for name in text.split(","))
    if not all(items):
        raise argparse.ArgumentTypeError(f"{text!r} has an empty name: give NAME,NAME,... without blanks")
    repeated = next((n for i, n in enumerate(items) if n.lower() in (m.lower() for m in items[:i])), None)
    if repeated is not None:
        raise argparse.ArgumentTypeError(f"{text!r} names {repeated!r} twice: give each name once")
    return items


def check_models_and_ablations(models: Sequence[str], ablations: Sequence[str] | None) -> None:
    """Every model registered, every `--ablation` one of a selected model's, and every selected model
    with at least one variant to train: otherwise the plan would silently leave runs out."""
    from benchmark.experiment.catalog import ABLATIONS, MODELS
    from benchmark.store.records import FULL_MODEL

    for model in models:
        MODELS.get(model)  # a typo is a did-you-mean error
    owners = {name: ABLATIONS.get(name).model for name in ablations or () if name != FULL_MODEL}
    for name, owner in owners.items():
        if owner not in models:
            raise BenchmarkError(
                f"--ablation {name} is an ablation of {owner}, which is not selected: add --model {owner}, "
                f"or drop --ablation {name}"
            )
    if ablations is not None and FULL_MODEL not in ablations:
        for model in models:
            if model not in owners.values():
                raise BenchmarkError(
                    f"{model}: none of the --ablation values is one of its variants, so it would train nothing: "
                    f"add --ablation {FULL_MODEL} to train it full, or leave {model} out"
                )


def check_placement(args: argparse.Namespace) -> None:
    """The options of `add_training_options` that say where runs compute (executor, --address, --jobs,
    --threads, --device, --precision), resolved once into `args.placement` before any data loads: the
    command reads the resolved settings from there and never resolves them again."""
    from benchmark.executors import Placement

    args.placement = Placement.from_args(args)


def add_setting_options(parser: argparse.ArgumentParser, *, tuned: bool = True) -> None:
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting of the model's search space, e.g. lr=0.001 (repeatable; `list` names them): "
        "part of the config hash, stored beside the default run",
    )
    if tuned:
        parser.add_argument(
            "--tuned", action="store_true", help="each variant with the settings `tune` chose for it"
        )


def add_training_options(parser: argparse.ArgumentParser, default_profile: str = "fast") -> None:
    parser.add_argument(
        "--dataset", action="append", help="dataset name (repeatable); default: both synthetic ones"
    )
    parser.add_argument(
        "--profile",
        default=default_profile,
        help="smoke, fast, converged (fast trained until validation stops improving) or paper "
        f"(default {default_profile})",
    )
    parser.add_argument(
        "--seeds",
        type=seed,
        nargs="+",
        help=f"seeds to run, each once, 0 to {SEED_MAX} (default: the profile's)",
    )
    parser.add_argument(
        "--force", action="store_true", help="retrain runs whose record exists (replaced atomically)"
    )
    parser.add_argument(
        "--home", help="results/cache/reports folder (default: $SUMMER_BENCH_HOME or the project)"
    )
    placement = parser.add_argument_group("where runs compute")
    placement.add_argument(
        "--device",
        type=device,
        default="auto",
        help="auto (CUDA when torch sees a GPU), cpu, cuda or cuda:N (default auto)",
    )
    placement.add_argument(
        "--precision",
        default="fp32",
        choices=("fp32", "bf16"),
        help="bf16: autocast matrix products to bfloat16, CUDA only (default fp32)",
    )
    placement.add_argument(
        "--deterministic",
        action="store_true",
        help="on CUDA, deterministic kernels for bit-identical reruns (slower); the CPU always is",
    )
    placement.add_argument(
        "--threads",
        type=counted(1, MOST_THREADS),
        help="torch threads per run instead of the profile's (fast and converged: 1, smoke and paper: 2), "
        f"at most {MOST_THREADS} (part of the config)",
    )
    placement.add_argument(
        "--executor",
        default="local",
        choices=("local", "ray"),
        help="local: runs on this machine (default); ray: runs as Ray tasks",
    )
    placement.add_argument(
        "--jobs",
        type=counted(1, MOST_THREADS),
        help="runs at once: local, in worker processes on the one device; ray, runs per GPU "
        "(default: as many as the cores hold at the runs' threads, at most 8 on the CPU and 4 per GPU, never more "
        "than the runs; the plan line says how many)",
    )
    placement.add_argument(
        "--address",
        help="with --executor ray: the cluster to join (e.g. ray://head:10001); default: a local one",
    )
