"""The tuning protocol's reference page: every model variant at its defaults and tuned on the same budget,
read from a home where `tune` and `run` trained them; writes `results/reference/tuned.md` and `.csv`.

    python -m scripts.tuned_reference --home HOME [--profile converged] [--command "CMD" ...]
        [--wall-log FILE] [--resamples N] [--out STEM]

Trains nothing and writes nothing into the home. Per dataset and variant: the trials its study spent,
the settings it chose, the validation weighted-F1 of the defaults (trial 0) and of the chosen settings,
the test weighted-F1 over seeds of the default runs and of the tuned runs with its bootstrap interval
(benchmark/report/stats.py), how many of them were still improving when training stopped, SUMMER's κ,
and the training seconds the records hold. The claims are benchmark/report/claims.py's on the default
runs and on the runs the report uses (benchmark/report/tuning.py: tuned where a study chose settings
and trained them on every seed), side by side, with `ablate --drop ikd`'s verdict in one sentence each.

`--command` (repeatable) quotes the commands that made the home, in order; without it they are written
from the home's studies and runs. `--wall-log` reads `/usr/bin/time -f "NAME: %e s wall, %U s user,
%S s sys"` lines (other lines are skipped) to quote each command's wall and CPU time.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from benchmark.errors import BenchmarkError
from benchmark.experiment.catalog import MODELS, SUBJECT
from benchmark.files import atomic_write
from benchmark.home import REFERENCE_DIR, Home
from benchmark.models.contract import ablations_of
from benchmark.report import tuning
from benchmark.report.claims import VERDICT_RULE, ClaimRow, ablation_variant, claim_rows
from benchmark.report.load import load_groups
from benchmark.report.published_numbers import read_published_numbers
from benchmark.report.stats import (
    BOOTSTRAP_SEED,
    CONFIDENCE,
    DEFAULT_RESAMPLES,
    bootstrap_interval,
    mean_and_std,
)
from benchmark.report.tables import markdown_table
from benchmark.store.records import FULL_MODEL, RunRecord
from benchmark.store.studies import TuningSummary, read_study

PAGE = REFERENCE_DIR / "tuned"
PROFILE = "converged"
# the variants issue 29's reference gives the same budget: SUMMER, SUMMER w/o IKD and three rivals
EXPERIMENT = (SUBJECT.model, ablation_variant(SUBJECT.without_distillation), SUBJECT.teacher, "sdt", "mult")
KAPPAS = ("kappa_logit", "kappa_latent", "kappa_head")
DISTILLATION_CLAIM = "distillation-helps"  # claims.py's SUMMER vs w/o IKD: what `ablate --drop ikd` compares
WALL_LINE = re.compile(
    r"^(?P<name>[^:]+): (?P<wall>[\d.]+) s wall, (?P<user>[\d.]+) s user, (?P<sys>[\d.]+) s sys$"
)

# The CSV's columns, as the page's header documents them (percent for scores, seconds for times).
COLUMNS = {
    "dataset": "dataset name",
    "variant": "model variant (`summer-no-ikd`: SUMMER without IKD)",
    "trials": "trials its study completed (trial 0 = the defaults); 0: not tuned",
    "trial_seed": "the seed every trial trained on",
    "chosen_settings": "the settings `tune` chose on validation (`the defaults` when trial 0 won)",
    "validation_wf1_default": "validation weighted-F1 of trial 0 (the defaults)",
    "validation_wf1_tuned": "validation weighted-F1 of the chosen trial",
    "expected_max_validation_wf1": "Show Your Work's expected best validation weighted-F1 of n = 1, 2, ... "
    "trials drawn from the study's (Dodge et al., EMNLP 2019), space-separated",
    "default_seeds": "seeds of the default runs",
    "default_test_wf1": "test weighted-F1 of the default runs, mean over their seeds",
    "default_test_wf1_std": "its sample standard deviation over seeds (0 for one seed)",
    "default_test_wf1_low": f"{CONFIDENCE:.0%} bootstrap interval over test dialogues of that mean: low",
    "default_test_wf1_high": "... and high",
    "default_still_improving": "default runs whose validation was still improving when training stopped",
    "tuned_seeds": "seeds of the runs with the chosen settings",
    "tuned_test_wf1": "test weighted-F1 of the tuned runs, mean over their seeds",
    "tuned_test_wf1_std": "its sample standard deviation over seeds",
    "tuned_test_wf1_low": f"{CONFIDENCE:.0%} bootstrap interval of that mean: low",
    "tuned_test_wf1_high": "... and high",
    "tuned_still_improving": "tuned runs whose validation was still improving when training stopped",
    **{f"{kappa}_default": f"SUMMER's {kappa} in its default runs (SUMMER's row only)" for kappa in KAPPAS},
    **{f"{kappa}_tuned": f"SUMMER's {kappa} in its tuned runs (SUMMER's row only)" for kappa in KAPPAS},
    "runs": "stored runs of the variant (trials, default and tuned runs, each counted once)",
    "train_seconds": "their records' train_seconds summed: wall time of each run, teacher excluded",
    "trial_train_seconds": "the share of train_seconds spent on the study's trials",
}


def profile_records(home: Home, profile: str) -> dict[str, list[RunRecord]]:
    """Every stored run of `profile`, by dataset."""
    if not home.runs.is_dir():
        raise BenchmarkError(
            f"{home.root}: no stored runs ({home.runs} is missing): give the home `tune` wrote"
        )
    groups, skipped = load_groups(home, profiles=[profile])
    for line in skipped:
        print(line, file=sys.stderr)
    by_dataset = {dataset: stored.records for (dataset, _), stored in groups.items() if stored.records}
    if not by_dataset:
        raise BenchmarkError(
            f"{home.root}: no runs of profile {profile!r}: give the profile they were run at"
        )
    return by_dataset


def ordered_variants(records: Sequence[RunRecord]) -> list[str]:
    """The experiment's variants first, in its order, then any other the home holds."""
    present = {r.key.variant for r in records}
    return [v for v in EXPERIMENT if v in present] + sorted(present - set(EXPERIMENT))


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 2)


def seed_scores(runs: Sequence[RunRecord], resamples: int) -> dict[str, object]:
    """Mean and std over seeds and the bootstrap interval of the mean of `runs` (one variant, one setting)."""
    if not runs:
        return {"seeds": "", "test_wf1": None, "test_wf1_std": None, "test_wf1_low": None,
                "test_wf1_high": None, "still_improving": None}  # fmt: skip
    mean, spread = mean_and_std([r.test.weighted_f1 for r in runs])
    low, high = bootstrap_interval(
        {r.key.seed: r.predictions for r in runs}, runs[0].data.n_classes, resamples
    )
    return {
        "seeds": " ".join(str(r.key.seed) for r in sorted(runs, key=lambda r: r.key.seed)),
        "test_wf1": _percent(mean),
        "test_wf1_std": _percent(spread),
        "test_wf1_low": _percent(low),
        "test_wf1_high": _percent(high),
        "still_improving": sum(r.convergence.still_improving for r in runs),
    }


def expected_maximum_curve(summary: TuningSummary) -> str:
    scores = [100 * trial.validation_weighted_f1 for trial in summary.trials]
    return " ".join(f"{tuning.expected_maximum(scores, n):.2f}" for n in range(1, len(scores) + 1))


def variant_row(
    dataset: str, variant: str, records: Sequence[RunRecord], summary: TuningSummary | None, resamples: int
) -> dict[str, object]:
    own = [r for r in records if r.key.variant == variant]
    defaults = [r for r in own if not r.key.settings]
    tuned = [r for r in own if summary and r.key.settings == summary.best.settings]
    trial_runs = {(summary.trial_seed, trial.settings) for trial in summary.trials} if summary else set()
    row: dict[str, object] = {
        "dataset": dataset,
        "variant": variant,
        "trials": len(summary.trials) if summary else 0,
        "trial_seed": summary.trial_seed if summary else None,
        "chosen_settings": (summary.best.settings or "the defaults") if summary else None,
        "validation_wf1_default": _percent(summary.default.validation_weighted_f1)
        if summary and summary.default
        else None,
        "validation_wf1_tuned": _percent(summary.best.validation_weighted_f1) if summary else None,
        "expected_max_validation_wf1": expected_maximum_curve(summary) if summary else None,
    }
    row |= {f"default_{name}": value for name, value in seed_scores(defaults, resamples).items()}
    row |= {f"tuned_{name}": value for name, value in seed_scores(tuned, resamples).items()}
    for protocol, runs in (("default", defaults), ("tuned", tuned)):
        config = runs[0].config.model_config if runs and variant == SUBJECT.model else {}
        row |= {f"{kappa}_{protocol}": config.get(kappa) for kappa in KAPPAS}
    row |= {
        "runs": len(own),
        "train_seconds": round(sum(r.train_seconds for r in own), 1),
        "trial_train_seconds": round(
            sum(r.train_seconds for r in own if (r.key.seed, r.key.settings) in trial_runs), 1
        ),
    }
    return row


Studies = dict[tuple[str, str], TuningSummary | None]  # (dataset, variant) -> its study, None: not tuned


def read_studies(home: Home, by_dataset: dict[str, list[RunRecord]], profile: str) -> Studies:
    return {
        (dataset, variant): read_study(home, dataset, profile, variant)
        for dataset, records in by_dataset.items()
        for variant in ordered_variants(records)
    }


def variant_table(by_dataset: dict[str, list[RunRecord]], studies: Studies, resamples: int) -> pd.DataFrame:
    rows = [
        variant_row(dataset, variant, records, studies[dataset, variant], resamples)
        for dataset, records in sorted(by_dataset.items())
        for variant in ordered_variants(records)
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def protocol_claims(
    records: list[RunRecord], studies: Studies, dataset: str, profile: str, resamples: int
) -> tuple[tuning.Protocol, list[ClaimRow], list[ClaimRow]]:
    """The report's protocol, from the studies `read_studies` read, and claims.py's rows on its default
    runs and on the runs it uses."""
    own_studies = {variant: studies[dataset, variant] for variant in ordered_variants(records)}
    protocol = tuning.protocol_of(records, profile, own_studies)
    # the claims compare the models this reference tuned, not rivals it never trained ("not run")
    trained = {record.key.model for record in records}
    rivals = [name for name in MODELS.names() if name != SUBJECT.model and name in trained]
    ablations = ablations_of(SUBJECT.model)

    summer_claims = read_published_numbers().summer_claims()

    def claims(runs: list[RunRecord]) -> list[ClaimRow]:
        return claim_rows(runs, rivals, ablations, summer_claims, resamples, BOOTSTRAP_SEED) if runs else []

    return protocol, claims(protocol.defaults), claims(protocol.records)


def ikd_sentence(dataset: str, protocol_name: str, row: ClaimRow | None) -> str:
    """`ablate --drop ikd`'s verdict under one protocol, as one sentence."""
    if row is None:
        return f"Under the {protocol_name}, on {dataset}, `ablate --drop ikd` has no runs to judge."
    measured = f"SUMMER − SUMMER w/o IKD = {row.interval_cell} points of test weighted-F1 ({row.evidence}), "
    return (
        f"Under the {protocol_name}, on {row.data}, `ablate --drop ikd` gives "
        f"{measured if row.estimate is not None else ''}verdict: **{row.verdict_cell}**."
    )


def claims_comparison(default: list[ClaimRow], chosen: list[ClaimRow]) -> pd.DataFrame:
    """One line per claim: its interval and verdict on the default runs and on the tuned ones."""
    by_claim = {row.claim: row for row in default}
    rows = []
    for row in chosen:
        other = by_claim[row.claim]
        rows.append(
            {
                "claim": row.statement,
                f"default: Δ points [{CONFIDENCE:.0%}]": other.interval_cell,
                "default: verdict": other.verdict_cell,
                f"tuned: Δ points [{CONFIDENCE:.0%}]": row.interval_cell,
                "tuned: verdict": row.verdict_cell,
                "verdict differs": "**yes**" if other.verdict != row.verdict else "no",
            }
        )
    return pd.DataFrame(rows)


def read_wall_log(path: Path) -> pd.DataFrame:
    """The `/usr/bin/time` lines of `path`: command, wall, user and system seconds, CPU = user + system."""
    try:
        text = path.read_text()
    except OSError as err:
        raise BenchmarkError(
            f"--wall-log {path}: cannot read it ({err.strerror}): give the time log's path"
        ) from None
    rows = []
    # a progress bar's last frame ends in \r, not \n; a log truncated while a command appended to it holds NULs
    for line in text.replace("\r", "\n").replace("\0", "").splitlines():
        match = WALL_LINE.match(line.strip())
        if match:
            user, system = float(match["user"]), float(match["sys"])
            rows.append({"command": match["name"], "wall (s)": float(match["wall"]), "user (s)": user,
                         "sys (s)": system, "CPU (s)": round(user + system, 1)})  # fmt: skip
    if not rows:
        raise BenchmarkError(
            f'--wall-log {path}: no line like "tune-summer: 6123.4 s wall, 11000.1 s user, 30.2 s sys": '
            'write it with /usr/bin/time -f "NAME: %e s wall, %U s user, %S s sys"'
        )
    return pd.DataFrame(rows)


def commands_from_home(by_dataset: dict[str, list[RunRecord]], studies: Studies, profile: str) -> list[str]:
    """`tune` per model (its studied ablations, the largest budget) and `run` per model for its default
    runs, written from the home's contents; --jobs and the order they ran in are not recorded."""
    records = [r for runs in by_dataset.values() for r in runs]
    threads = {r.environment.threads for r in records}
    placement = f" --threads {threads.pop()}" if len(threads) == 1 and None not in threads else ""
    datasets = "".join(f" --dataset {d}" for d in sorted(by_dataset))
    tuned: dict[str, tuple[set[str], int]] = {}
    defaults: dict[str, tuple[set[str], set[int]]] = {}
    ran = set()  # models with a default run that no study's trial 0 made: `run` trained it
    for record in records:
        key = record.key
        summary = studies[key.dataset, key.variant]
        if summary:
            ablations, budget = tuned.setdefault(key.model, (set(), 0))
            ablations.add(key.ablation)
            tuned[key.model] = (ablations, max(budget, len(summary.trials)))
        if not key.settings:
            ablations, seeds = defaults.setdefault(key.model, (set(), set()))
            ablations.add(key.ablation)
            seeds.add(key.seed)
            if not (summary and key.seed == summary.trial_seed):
                ran.add(key.model)

    def ablation_options(ablations: set[str]) -> str:
        return "".join(f" --ablation {a}" for a in sorted(ablations, key=lambda a: (a != FULL_MODEL, a)))

    lines = [
        f"python -m benchmark tune --model {model}{ablation_options(ablations)} --trials {budget} "
        f"--profile {profile}{datasets}{placement} --home HOME"
        for model, (ablations, budget) in tuned.items()
    ]
    lines += [
        f"python -m benchmark run --model {model}{ablation_options(ablations)} --profile {profile}{datasets} "
        f"--seeds {' '.join(map(str, sorted(seeds)))}{placement} --home HOME"
        for model, (ablations, seeds) in defaults.items()
        if model in ran
    ]
    return lines


def _cell(value: object, suffix: str = "") -> str:
    return "—" if value is None or (isinstance(value, float) and pd.isna(value)) else f"{value}{suffix}"


def _points(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.2f}"


def _score(row: pd.Series, protocol: str) -> str:
    mean = row[f"{protocol}_test_wf1"]
    if mean is None or pd.isna(mean):
        return "not run"
    return (
        f"{mean:.2f} ± {row[f'{protocol}_test_wf1_std']:.2f} [{row[f'{protocol}_test_wf1_low']:.2f}, "
        f"{row[f'{protocol}_test_wf1_high']:.2f}] (seeds {row[f'{protocol}_seeds']}; "
        f"{int(row[f'{protocol}_still_improving'])} still improving)"
    )


def _protocol_lines(table: pd.DataFrame) -> list[str]:
    shown = pd.DataFrame(
        {
            "variant": table.variant,
            "trials": table.trials,
            "chosen settings": table.chosen_settings.map(_cell),
            "validation wF1 default": table.validation_wf1_default.map(_points),
            "validation wF1 tuned": table.validation_wf1_tuned.map(_points),
            "expected max validation wF1, n = 1, 2, ...": table.expected_max_validation_wf1.map(_cell),
            "test wF1 default": [_score(row, "default") for _, row in table.iterrows()],
            "test wF1 tuned": [_score(row, "tuned") for _, row in table.iterrows()],
        }
    )
    return markdown_table(shown)


def _kappa_lines(table: pd.DataFrame) -> list[str]:
    summer = table[table.variant == SUBJECT.model]
    if summer.empty:
        return [f"SUMMER has no runs on this dataset: κ not decided (run `tune --model {SUBJECT.model}`)."]
    row = summer.iloc[0]
    if not row.trials:
        return ["SUMMER was not tuned on this dataset: κ stays at its defaults."]
    decided = ", ".join(f"{kappa} {_cell(row[f'{kappa}_tuned'])}" for kappa in KAPPAS)
    default = ", ".join(f"{kappa} {_cell(row[f'{kappa}_default'])}" for kappa in KAPPAS)
    return [f"SUMMER's κ decided by the protocol (validation weighted-F1, {row.trials} trials): {decided} "
            f"(defaults: {default})."]  # fmt: skip


def _time_lines(table: pd.DataFrame, wall_log: pd.DataFrame | None) -> list[str]:
    shown = table[["dataset", "variant", "runs", "trial_train_seconds", "train_seconds"]].rename(
        columns={"trial_train_seconds": "trials (s)", "train_seconds": "all runs (s)"}
    )
    total = {"dataset": "**all**", "variant": "", "runs": int(table.runs.sum()),
             "trials (s)": round(table.trial_train_seconds.sum(), 1), "all runs (s)": round(table.train_seconds.sum(), 1)}  # fmt: skip
    lines = [
        "Each record's `train_seconds` is the wall time of that run (teacher training excluded: SUMMER's",
        "teacher is trained once and cached); runs that overlapped under `--jobs` count each in full, so the",
        f"sum is run-seconds, not the experiment's wall time. In all: {total['all runs (s)'] / 3600:.2f} run-hours.",
        "",
        *markdown_table(pd.concat([shown, pd.DataFrame([total])], ignore_index=True)),
        "",
    ]
    if wall_log is not None:
        lines += [
            "Command-level time (`/usr/bin/time`: wall, and CPU = user + system over all threads and workers):",
            "",
            *markdown_table(wall_log),
            "",
            f"In all: {wall_log['wall (s)'].sum() / 3600:.2f} h wall, {wall_log['CPU (s)'].sum() / 3600:.2f} h CPU.",
            "",
        ]
    return lines


def render(
    by_dataset: dict[str, list[RunRecord]],
    studies: Studies,
    profile: str,
    table: pd.DataFrame,
    commands: list[str],
    written_from_home: bool,
    wall_log: pd.DataFrame | None,
    resamples: int,
) -> str:
    records = [r for runs in by_dataset.values() for r in runs]
    sources = sorted({f"{r.key.dataset}: {r.data.source}" for r in records})
    synthetic = all(r.data.synthetic for r in records)
    machines = sorted({f"{r.environment.platform}, {r.environment.cpu} ({r.environment.machine}), "
                       f"torch {r.environment.torch}, {r.environment.threads} torch thread(s) per run"
                       for r in records})  # fmt: skip
    lines = [f"# Default vs tuned on the same budget ({profile} profile)", ""]
    if synthetic:
        lines += [
            "**synthetic data, not a reproduction**: every number below comes from summer-bench's generator "
            f"({'; '.join(sources)}), made to exercise the suite; none is a paper's result reproduced.",
            "",
        ]
    else:
        lines += [f"Data: {'; '.join(sources)}.", ""]
    how = (
        "written from the home's studies and runs; their order and `--jobs` are not recorded"
        if written_from_home
        else "as run"
    )
    lines += [
        f"Written by `python -m scripts.tuned_reference` on {datetime.datetime.now(datetime.UTC):%Y-%m-%d} "
        f"(UTC), on a machine with {os.cpu_count()} cores. The runs ran on: {'; '.join(machines)}; git "
        f"commit(s) {', '.join(sorted({r.environment.git_commit[:12] for r in records}))}.",
        "",
        f"The commands that made the home ({how}):",
        "",
        "```",
        *commands,
        "```",
        "",
        "Protocol: each variant's study trains its trials on one seed and scores them on validation",
        "weighted-F1 only (trial 0: the defaults); the chosen settings are trained on every seed. Test",
        f"weighted-F1 (%): mean ± std over seeds [{CONFIDENCE:.0%} bootstrap interval over test dialogues, "
        f"{resamples} resamples], and how many runs were still improving when training stopped.",
        "",
        "The claims are the report's (benchmark/report/claims.py), once on the default runs and once on the",
        "runs the report uses (each variant's tuned runs where its chosen settings ran on every seed). As in",
        "the report, they weigh SUMMER against every registered ablation (one this home lacks keeps a verdict",
        'from `supported` and is named with the command that runs it); unlike the report, "every rival" means',
        "the rivals this home trained, the ones given the same budget.",
        "",
    ]
    for dataset, records_of in sorted(by_dataset.items()):
        missing = [v for v in EXPERIMENT if v not in {r.key.variant for r in records_of}]
        untuned = [v for v in table[(table.dataset == dataset) & (table.trials == 0)].variant]
        if missing:
            lines += [f"**Missing on {dataset}**: {', '.join(missing)} (no runs in the home).", ""]
        if untuned:
            lines += [
                f"**Not tuned on {dataset}**: {', '.join(untuned)} (no study with a finished trial in the home).",
                "",
            ]
    lines += ["## Verdict of `ablate --drop ikd` under each protocol", ""]
    comparisons = {}
    for dataset, records_of in sorted(by_dataset.items()):
        protocol, default, chosen = protocol_claims(records_of, studies, dataset, profile, resamples)
        comparisons[dataset] = (protocol, default, chosen)
        judged = [
            next((r for r in rows if r.claim == DISTILLATION_CLAIM), None) for rows in (default, chosen)
        ]
        for name, row in zip(("default protocol (every model at its defaults)",
                              f"tuned protocol ({protocol.describe() if protocol.tuned else 'no variant tuned on every seed yet'})"), judged, strict=True):  # fmt: skip
            lines += [f"- {ikd_sentence(dataset, name, row)}"]
        if None not in judged and judged[0].verdict != judged[1].verdict:
            lines += [f"- **On {dataset} the verdict differs between the protocols.**"]
    lines += ["", "## Columns of tuned.csv", ""]
    lines += [f"- `{name}`: {description}" for name, description in COLUMNS.items()]
    lines += [""]
    for dataset in sorted(by_dataset):
        protocol, default, chosen = comparisons[dataset]
        rows = table[table.dataset == dataset]
        lines += [f"## {dataset}", "", "### Variants: default and tuned", "", *_protocol_lines(rows), ""]
        lines += ["### κ", "", *_kappa_lines(rows), ""]
        lines += ["### Claims under both protocols", "", VERDICT_RULE, ""]
        if default and chosen:
            lines += [
                f"Tuned protocol: {protocol.describe()}.",
                "",
                *markdown_table(claims_comparison(default, chosen)),
                "",
            ]
        else:
            lines += [
                "No default runs on this dataset: the claims need them (run `python -m benchmark run`).",
                "",
            ]
    lines += ["## Time", "", *_time_lines(table, wall_log)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.tuned_reference", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--home", required=True, help="the home `tune` and `run` trained into (read only)")
    parser.add_argument("--profile", default=PROFILE, help=f"the profile the runs used (default {PROFILE})")
    parser.add_argument(
        "--command", action="append", default=[], help="a command that made the home, as run (repeatable)"
    )
    parser.add_argument(
        "--wall-log", type=Path, help="/usr/bin/time lines: NAME: W s wall, U s user, S s sys"
    )
    parser.add_argument("--resamples", type=int, default=DEFAULT_RESAMPLES, help="bootstrap resamples")
    parser.add_argument("--out", default=str(PAGE), help="path stem of the .md and .csv")
    args = parser.parse_args(argv)
    home = Home(Path(args.home).expanduser().resolve())  # not resolve_home: that marks the folder, a write
    try:
        by_dataset = profile_records(home, args.profile)
        wall_log = read_wall_log(args.wall_log) if args.wall_log else None
        studies = read_studies(home, by_dataset, args.profile)
        table = variant_table(by_dataset, studies, args.resamples)
        commands = args.command or commands_from_home(by_dataset, studies, args.profile)
        text = render(
            by_dataset, studies, args.profile, table, commands, not args.command, wall_log, args.resamples
        )
    except BenchmarkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    stem = Path(args.out)
    stem.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(stem.with_suffix(".csv"), lambda path: table.to_csv(path, index=False))
    atomic_write(stem.with_suffix(".md"), lambda path: path.write_text(text))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
