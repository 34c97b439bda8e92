"""`python -m benchmark study modality|sdmoe|tsne|ikd`: the studies, trained as needed, then the
reports (each study adds a section to its dataset's report).

- modality: the teacher model on t, a, v, t+a, t+v, t+a+v (the paper's table 3);
- sdmoe: each unimodal teacher with its SDMoE against plain self-attention, over seeds (figure 4);
- tsne: input features against full SUMMER's fused features on the test split (figure 6), from the
  stored run's weights (the run trained and stored first, with the command's options, when the store
  lacks it; `--force` retrains it);
- ikd: SUMMER under each distillation reading the sources leave open, beside its default and w/o IKD.
"""

from __future__ import annotations

import argparse

from benchmark.commands._options import add_training_options, check_placement
from benchmark.commands.housekeeping import open_home
from benchmark.errors import BenchmarkError
from benchmark.executors import run_sweep

STUDY_NAMES = ("modality", "sdmoe", "tsne", "ikd")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", choices=STUDY_NAMES, help="which study (see the command's description)")
    add_training_options(parser)


def check_options(args: argparse.Namespace) -> None:
    check_placement(args)


def main(args: argparse.Namespace) -> int:
    from benchmark.console import make_console
    from benchmark.experiment.profiles import PROFILES
    from benchmark.report import write_reports
    from benchmark.report.study_sections import modality_lines
    from benchmark.store.records import FULL_MODEL
    from benchmark.training.runner import DEFAULT_DATASETS, plan, resolve_runs
    from summer.studies import STUDY_VARIANTS

    placement = args.placement  # resolved once by check_options, before any data loads
    home = open_home(args.home)
    console = make_console()
    datasets = args.dataset or DEFAULT_DATASETS
    if args.study == "tsne":
        from benchmark.training.tsne import tsne_study

        if placement.executor == "ray":
            raise BenchmarkError(
                "study tsne embeds the test split here, on this machine's device: drop --executor ray (train "
                "the runs on the cluster with `run --model summer --ablation none --executor ray`, then run "
                "the study, which reads their stored weights)"
            )
        seed = (args.seeds or PROFILES.get(args.profile).seeds)[0]
        keys = plan(["summer"], datasets, args.profile, [seed], [FULL_MODEL])
        runs = resolve_runs(keys, home, placement.execution)
        run_sweep(runs, home, placement, force=args.force)  # the runs the store lacks, trained and stored
        for run in runs:
            key = run.plan.key
            console.print(f"t-SNE of {key.variant} on {key.dataset} seed {key.seed}: {tsne_study(run, home)}")
    else:
        model, variants = STUDY_VARIANTS[args.study]
        keys = plan([model], datasets, args.profile, args.seeds, list(variants))
        records = run_sweep(resolve_runs(keys, home, placement.execution), home, placement, force=args.force)
        for record in records:
            console.print(
                f"{record.key.variant:>30} {record.key.dataset:>18} seed {record.key.seed}: "
                f"test weighted-F1 {100 * record.test.weighted_f1:.2f}%",
                highlight=False,
            )
        if args.study == "modality":
            for dataset in datasets:
                for line in modality_lines([r for r in records if r.key.dataset == dataset]):
                    console.print(f"{dataset}: {line}", highlight=False)
    for path in write_reports(home, datasets=datasets, profiles=[args.profile]):
        console.print(f"wrote {path}")
    return 0
