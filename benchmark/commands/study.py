"""`python -m benchmark study modality|sdmoe|tsne`: the paper's studies, trained as needed, then the
reports (each study adds a section to its dataset's report).

- modality: the teacher model on t, a, v, t+a, t+v, t+a+v (the paper's table 3);
- sdmoe: each unimodal teacher with its SDMoE against plain self-attention, over seeds (figure 4);
- tsne: input features against full SUMMER's fused features on the test split (figure 6).
"""

from __future__ import annotations

import argparse

from benchmark.commands._options import add_training_options
from benchmark.executors import Placement, run_sweep
from benchmark.home import resolve_home

STUDY_NAMES = ("modality", "sdmoe", "tsne")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", choices=STUDY_NAMES, help="which study (see the command's description)")
    add_training_options(parser)


def main(args: argparse.Namespace) -> int:
    from benchmark.config import PROFILES
    from benchmark.console import make_console
    from benchmark.records import FULL_MODEL
    from benchmark.report import write_reports
    from benchmark.runner import DEFAULT_DATASETS, plan
    from summer.distillation import TEACHER
    from summer.studies import STUDY_VARIANTS

    home = resolve_home(args.home)
    console = make_console()
    datasets = args.dataset or DEFAULT_DATASETS
    if args.study == "tsne":
        from benchmark.tsne import tsne_study

        seed = (args.seeds or PROFILES.get(args.profile).seeds)[0]
        keys = plan(["summer"], datasets, args.profile, [seed], [FULL_MODEL])
        for key in keys:
            console.print(f"t-SNE of {key.variant} on {key.dataset} seed {key.seed}: {tsne_study(key, home)}")
    else:
        keys = plan([TEACHER], datasets, args.profile, args.seeds, list(STUDY_VARIANTS[args.study]))
        for record in run_sweep(keys, home, Placement.from_args(args), force=args.force):
            console.print(
                f"{record.key.variant:>30} {record.key.dataset:>18} seed {record.key.seed}: "
                f"test weighted-F1 {100 * record.test.weighted_f1:.2f}%",
                highlight=False,
            )
    for path in write_reports(home, datasets=datasets, profiles=[args.profile]):
        console.print(f"wrote {path}")
    return 0
