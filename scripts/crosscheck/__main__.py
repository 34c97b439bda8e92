"""Cross-check each rival against its authors' code on the same data.

For each reference given a clone: write each dataset in the reference's input format, train the
reference's own model with its own loss, optimizer and loop (patched only where current torch or a CPU
needs it, each patch printed) and our rival with the same width, heads, dropout, learning rate, batch,
epochs, weight decay and class weights, over the seeds; score both sides' test predictions with our one
scorer at the epoch each selects on validation; write the page and its CSV.

    python -m scripts.crosscheck --sdt CLONE [--mmgcn CLONE] [--mult CLONE] [--dataset NAME ...]
        [--multiemo CLONE] [--seeds 0 1 2] [--width fast|paper|smoke] [--epochs REFERENCE=N ...]
        [--device cpu|cuda] [--threads 2] [--jobs 1] [--home DIR] [--out DIR]

The synthetic datasets always run; a real `iemocap` / `meld` import in the home runs too.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from benchmark.errors import BenchmarkError, split_assignment
from benchmark.home import REFERENCE_DIR, resolve_home
from scripts.crosscheck.compare import Side, check_pair, default_datasets, load_datasets
from scripts.crosscheck.page import Progress, write_page
from scripts.crosscheck.registry import REFERENCES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.crosscheck", description=__doc__.split("\n")[0])
    for name, reference in REFERENCES.items():
        parser.add_argument(
            f"--{name}",
            type=Path,
            metavar="CLONE",
            help=f"a clone of {reference.repository} at {reference.commit[:7]} (checks {reference.rival!r})",
        )
    parser.add_argument(
        "--dataset", action="append", help="default: both synthetic datasets and real imports"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--width",
        choices=("fast", "paper", "smoke"),
        default="fast",
        help="fast: the fast profile's settings; paper: each reference's published ones; smoke: the smoke "
        "profile's, on its subsample of dialogues (a dry run)",
    )
    parser.add_argument(
        "--epochs",
        action="append",
        default=[],
        metavar="REFERENCE=N",
        help="train both sides of REFERENCE for N epochs instead of the width's (a CPU budget; the page "
        "states each row's epochs)",
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of each side (default 2)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="(reference, dataset) pairs trained at once, each in its own process (default 1)",
    )
    parser.add_argument("--home", help="where datasets are cached and imports are found")
    parser.add_argument("--out", type=Path, default=REFERENCE_DIR, help="folder of crosscheck.md and .csv")
    args = parser.parse_args(argv)
    try:
        clones = {n: getattr(args, n) for n in REFERENCES if getattr(args, n) is not None}
        if not clones:
            raise BenchmarkError(
                "no reference clone given: pass at least one of "
                + ", ".join(f"--{n} CLONE" for n in REFERENCES)
            )
        for name, clone in clones.items():
            REFERENCES[name].check_clone(clone)
        epochs = _epoch_overrides(args.epochs, clones)
        home = resolve_home(args.home)
        names = args.dataset or default_datasets(home)
        load_datasets(names, home)  # generated or validated once, before any worker reads the cache
        command = " ".join(
            ["python -m scripts.crosscheck", *(f"--{n} CLONE" for n in clones)]
            + [f"--dataset {d}" for d in args.dataset or ()]
            + [f"--epochs {n}={e}" for n, e in epochs.items()]
            + ["--seeds", *map(str, args.seeds), "--width", args.width, "--device", args.device]
            + ["--threads", str(args.threads), "--jobs", str(args.jobs)]
        )
        references = [REFERENCES[n] for n in clones]
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="crosscheck-") as work:
            pairs = [
                (name, clone, dataset, args.home, args.seeds, args.width, args.device, args.threads,
                 epochs.get(name), Path(work))
                for name, clone in clones.items()
                for dataset in names
            ]  # fmt: skip
            finished: dict[tuple[str, str], list[Side]] = {}

            def record(pair: tuple, sides: list[Side]) -> None:
                # rewritten after every (reference, dataset): an interrupted check keeps what finished
                finished[pair[0], pair[2]] = sides
                results = [side for p in pairs for side in finished.get((p[0], p[2]), [])]
                progress = Progress(len(finished), len(pairs), time.monotonic() - started)
                write_page(results, references, args, command, args.out, progress)

            if args.jobs == 1:
                for pair in pairs:
                    record(pair, check_pair(*pair))
            else:
                spawn = multiprocessing.get_context("spawn")  # no forked copy of a running torch
                with ProcessPoolExecutor(args.jobs, mp_context=spawn) as pool:
                    futures = {pool.submit(check_pair, *pair): pair for pair in pairs}
                    for future in as_completed(futures):
                        record(futures[future], future.result())
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.out / 'crosscheck.md'} and {args.out / 'crosscheck.csv'}")
    return 0


def _epoch_overrides(given: list[str], clones: dict[str, Path]) -> dict[str, int]:
    """`--epochs sdt=2 --epochs mmgcn=1` as {reference: epochs}, each a reference being checked."""
    form = f"REFERENCE=N, N >= 1, for a reference being checked ({', '.join(clones)})"
    epochs = {}
    for item in given:
        name, count = split_assignment(item, "--epochs", form, clones)
        if not count.isdigit() or int(count) < 1:
            raise BenchmarkError(f"--epochs {item!r}: expected {form}")
        epochs[name] = int(count)
    return epochs


if __name__ == "__main__":
    sys.exit(main())
