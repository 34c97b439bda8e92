"""scripts/tuned_reference.py: the page and CSV against the records and studies they are read from. A smoke
home tuned for two cheap models (real runs), and hand-made records of SUMMER and SUMMER w/o IKD whose
`ablate --drop ikd` verdict flips between the default and the tuned settings."""

from __future__ import annotations

import dataclasses
import statistics

import optuna
import pandas as pd
import pytest

from benchmark.executors import Placement, run_sweep, tuning
from benchmark.experiment.catalog import MODELS
from benchmark.home import Home
from benchmark.models.contract import ablations_of
from benchmark.report import tuning as report_tuning
from benchmark.report.claims import claim_rows
from benchmark.report.load import load_records
from benchmark.report.published_numbers import read_published_numbers
from benchmark.store.records import RunKey, config_hash
from benchmark.store.runs import RunStore
from benchmark.store.studies import SETTINGS_ATTRIBUTE, read_study, storage_url, study_path
from benchmark.training.device_settings import Execution
from benchmark.training.runner import resolve_runs
from scripts import tuned_reference
from tests.smoke_fixtures import use_smaller_smoke
from tests.test_claims import SUMMER_ERRORS, make_predictions, make_record

# the module's smoke home tunes two models and trains six smoke runs: the slow lane's
pytestmark = pytest.mark.slow

DATASET = "synthetic-iemocap"
TUNED_MODELS = ("text-teacher", "early-fusion")
TRIALS = 2
ON_THE_CPU = Placement(Execution("cpu", threads=1), jobs=1)
COMMANDS = ["tune --model text-teacher --model early-fusion --trials 2", "run --seeds 0 1"]
# as /usr/bin/time appends them to a command's own output, a progress bar's last frame included
WALL_LOG = (
    "tune: 12.5 s wall, 20.0 s user, 1.5 s sys\nsome other output\rrun: 3.0 s wall, 5.0 s user, 0.5 s sys\n"
)

SUMMER_CLAIMS = read_published_numbers().summer_claims()


@dataclasses.dataclass
class Reference:
    home: Home
    page: str
    table: pd.DataFrame


def write_page(home: Home, tmp_path, profile: str, *extra: str) -> Reference:
    stem = tmp_path / "page" / "tuned"
    argv = ["--home", str(home.root), "--profile", profile, "--resamples", "100", "--out", str(stem), *extra]
    assert tuned_reference.main(argv) == 0
    return Reference(home, stem.with_suffix(".md").read_text(), pd.read_csv(stem.with_suffix(".csv")))


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> Reference:
    """`tune` of two models on the smoke profile (trials on seed 0, the profile's only seed), and their
    default runs on seeds 0 and 1: at the smaller smoke of tests/smoke_fixtures.py, which the tests that
    read the home use too."""
    folder = tmp_path_factory.mktemp("tuned-reference")
    home = Home(folder / "home")
    keys = [RunKey(model, "none", DATASET, "smoke", 0) for model in TUNED_MODELS]
    with pytest.MonkeyPatch.context() as patch:
        use_smaller_smoke(patch)
        tuning.tune(keys, home, ON_THE_CPU, TRIALS, seeds=(0,))
        seed_1 = [dataclasses.replace(key, seed=1) for key in keys]
        run_sweep(resolve_runs(seed_1, home, ON_THE_CPU.execution), home, ON_THE_CPU)
        log = folder / "time.log"
        log.write_text(WALL_LOG)
        commands = [option for command in COMMANDS for option in ("--command", command)]
        return write_page(home, folder, "smoke", *commands, "--wall-log", str(log))


def _row(table: pd.DataFrame, variant: str) -> pd.Series:
    return table[(table.dataset == DATASET) & (table.variant == variant)].iloc[0]


def test_the_chosen_settings_and_validation_scores_are_the_studys(smoke, smaller_smoke):
    for model in TUNED_MODELS:
        summary = read_study(smoke.home, DATASET, "smoke", model)
        row = _row(smoke.table, model)
        assert row.trials == TRIALS == len(summary.trials)
        assert row.chosen_settings == (summary.best.settings or "the defaults")
        assert row.validation_wf1_tuned == round(100 * summary.best.validation_weighted_f1, 2)
        assert row.validation_wf1_default == round(100 * summary.default.validation_weighted_f1, 2)
        low, high = sorted(100 * trial.validation_weighted_f1 for trial in summary.trials)
        # Show Your Work by hand for two trials: E[max of 1] = the mean, E[max of 2] = low/4 + 3 high/4
        assert row.expected_max_validation_wf1 == f"{(low + high) / 2:.2f} {low / 4 + 3 * high / 4:.2f}"
        line = next(line for line in smoke.page.splitlines() if line.startswith(f"| {model} | {TRIALS} |"))
        assert (
            f"| {row.chosen_settings} | {row.validation_wf1_default:.2f} | {row.validation_wf1_tuned:.2f} |"
            in line
        )


def test_the_test_means_are_those_of_the_records(smoke, smaller_smoke):
    records, _ = load_records(smoke.home)
    for model in TUNED_MODELS:
        best = read_study(smoke.home, DATASET, "smoke", model).best.settings
        row = _row(smoke.table, model)
        tuned_seeds = "0" if best else "0 1"  # trial 0 won: the tuned runs are the default runs
        for protocol, settings, seeds in (("default", "", "0 1"), ("tuned", best, tuned_seeds)):
            scores = [
                100 * r.test.weighted_f1
                for r in records
                if r.key.model == model and r.key.settings == settings
            ]
            assert row[f"{protocol}_seeds"] == seeds
            assert row[f"{protocol}_test_wf1"] == pytest.approx(statistics.mean(scores), abs=0.006)
            assert row[f"{protocol}_test_wf1_low"] <= row[f"{protocol}_test_wf1_high"]
        assert row.runs == TRIALS + 1  # the trials (trial 0 is the default seed-0 run) and the seed-1 run
        own = [r for r in records if r.key.model == model]
        assert row.train_seconds == pytest.approx(sum(r.train_seconds for r in own), abs=0.06)


def test_the_missing_variants_and_the_synthetic_data_are_said(smoke, smaller_smoke):
    assert f"**Missing on {DATASET}**: summer, summer-no-ikd, sdt, mult (no runs in the home)." in smoke.page
    assert "**synthetic data, not a reproduction**" in smoke.page
    assert "summer-bench generator v" in smoke.page
    assert "\n".join(COMMANDS) in smoke.page  # the commands as given, not reconstructed
    assert "SUMMER has no runs on this dataset: κ not decided" in smoke.page


def test_the_claims_are_claims_pys_on_each_protocols_runs(smoke, smaller_smoke):
    records, _ = load_records(smoke.home)
    defaults = [r for r in records if not r.key.settings]
    rivals = [name for name in MODELS.names() if name in TUNED_MODELS]  # the rivals the home trained
    (teacher,) = [
        row
        for row in claim_rows(defaults, rivals, ablations_of("summer"), SUMMER_CLAIMS, 100, 0)
        if row.claim == "text-teacher-beats-other-rivals"
    ]
    line = next(line for line in smoke.page.splitlines() if line.startswith(f"| {teacher.statement} |"))
    assert f"| {teacher.interval_cell} | {teacher.verdict_cell} |" in line
    assert "mmgcn" not in smoke.page  # a rival the reference never trained is not asked for
    sentence = next(
        line for line in smoke.page.splitlines() if line.startswith("- Under the default protocol")
    )
    assert (
        "`ablate --drop ikd`" in sentence
        and "**not run: run `python -m benchmark ablate --drop ikd" in sentence
    )


def test_the_wall_log_is_quoted_and_a_log_without_time_lines_is_one_line(
    smoke, smaller_smoke, tmp_path, capsys
):
    assert (
        "| tune | 12.5 | 20.0 | 1.5 | 21.5 |" in smoke.page
        and "| run | 3.0 | 5.0 | 0.5 | 5.5 |" in smoke.page
    )
    assert "In all: 0.00 h wall, 0.01 h CPU." in smoke.page
    empty = tmp_path / "empty.log"
    empty.write_text("no timings here\n")
    argv = [
        "--home",
        str(smoke.home.root),
        "--profile",
        "smoke",
        "--wall-log",
        str(empty),
        "--out",
        str(tmp_path / "t"),
    ]
    assert tuned_reference.main(argv) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "no line like" in error[0] and not (tmp_path / "t.md").exists()


KAPPA = "kappa_head=0.1,kappa_latent=0.1,kappa_logit=0.1"
# Without IKD the student errs more than SUMMER at the tuned κ, less than SUMMER at the default κ.
NO_IKD_ERRORS = SUMMER_ERRORS | {2: (0.3, 3)}
DEFAULT_SUMMER_ERRORS = SUMMER_ERRORS | {2: (0.6, 3), 4: (0.4, 5)}


def store_study(home: Home, variant: str, settings: str, values: tuple[float, float]) -> None:
    """A finished study of two trials, the defaults and `settings`, as `tune` leaves it."""
    path = study_path(home, "synthetic-iemocap", "fast", variant)
    path.parent.mkdir(parents=True, exist_ok=True)
    study = optuna.create_study(study_name=variant, storage=storage_url(path), direction="maximize")
    study.set_user_attr("trial_seed", 0)
    for chosen, value in zip(("", settings), values, strict=True):
        trial = optuna.trial.create_trial(value=value, user_attrs={SETTINGS_ATTRIBUTE: chosen})
        study.add_trial(trial)


@pytest.fixture(scope="module")
def flipped(tmp_path_factory) -> Reference:
    """SUMMER and w/o IKD on fast's seeds, at their defaults and at tuned settings (κ = 0.1 for SUMMER;
    w/o IKD's study keeps its defaults)."""
    folder = tmp_path_factory.mktemp("flipped")
    home = Home(folder / "home")
    store = RunStore(home)
    runs = [
        ("summer", "", DEFAULT_SUMMER_ERRORS),
        ("summer", KAPPA, SUMMER_ERRORS),
        ("summer-no-ikd", "", NO_IKD_ERRORS),
    ]
    for variant, settings, errors in runs:
        for seed in (0, 1, 2):
            record = make_record(variant, seed, make_predictions(errors, seed))
            kappas = {name: 0.1 if settings else 1.0 for name in tuned_reference.KAPPAS}
            config = dataclasses.replace(
                record.config, model_config=kappas, settings=kappas if settings else {}
            )
            key = dataclasses.replace(record.key, settings=settings)
            store.write(
                dataclasses.replace(record, key=key, config=config, config_hash=config_hash(config.to_json()))
            )
    store_study(home, "summer", KAPPA, (0.60, 0.70))
    store_study(home, "summer-no-ikd", "dropout=0.3", (0.65, 0.60))
    return write_page(home, folder, "fast")


def test_the_ikd_verdict_is_stated_under_both_protocols_and_its_flip_flagged(flipped):
    records, _ = load_records(flipped.home)
    rivals = [name for name in MODELS.names() if name != "summer"]

    def distillation(settings: str):
        chosen = [r for r in records if r.key.variant == "summer-no-ikd" or r.key.settings == settings]
        rows = claim_rows(chosen, rivals, ablations_of("summer"), SUMMER_CLAIMS, 100, 0)
        return next(row for row in rows if row.claim == "distillation-helps")

    default, tuned = distillation(""), distillation(KAPPA)
    assert (default.verdict, tuned.verdict) == ("not supported", "supported")
    lines = flipped.page.splitlines()
    for protocol, row in (("default", default), ("tuned", tuned)):
        sentence = next(line for line in lines if line.startswith(f"- Under the {protocol} protocol"))
        assert f"= {row.interval_cell} points" in sentence and f"verdict: **{row.verdict_cell}**" in sentence
    assert "- **On synthetic-iemocap the verdict differs between the protocols.**" in lines
    written = "--profile fast --dataset synthetic-iemocap"  # the commands, written from the home
    assert (
        f"tune --model summer --ablation none --ablation ikd --trials 2 {written} --threads 2" in flipped.page
    )
    assert (
        f"run --model summer --ablation none --ablation ikd {written} --seeds 0 1 2 --threads 2"
        in flipped.page
    )
    flag = next(line for line in lines if line.startswith(f"| {default.statement} |"))
    assert flag.endswith("| **yes** |")
    assert "kappa_logit 0.1, kappa_latent 0.1, kappa_head 0.1 (defaults: kappa_logit 1.0" in flipped.page


def test_a_tuned_variant_reads_its_chosen_runs_and_an_untuned_winner_its_default_runs(flipped):
    records, _ = load_records(flipped.home)
    for variant, chosen in (("summer", KAPPA), ("summer-no-ikd", "")):
        row = _row(flipped.table, variant)
        assert row.chosen_settings == (chosen or "the defaults") and row.tuned_seeds == "0 1 2"
        scores = [
            100 * r.test.weighted_f1 for r in records if r.key.variant == variant and r.key.settings == chosen
        ]
        assert row.tuned_test_wf1 == pytest.approx(statistics.mean(scores), abs=0.006)
        assert row.tuned_test_wf1_std == pytest.approx(statistics.stdev(scores), abs=0.006)
    summer = _row(flipped.table, "summer")
    assert (summer.kappa_logit_default, summer.kappa_logit_tuned) == (1.0, 0.1)
    assert summer.tuned_test_wf1 != summer.default_test_wf1
    assert pd.isna(_row(flipped.table, "summer-no-ikd").kappa_logit_tuned)  # κ is SUMMER's alone


def test_each_study_is_opened_once(flipped, tmp_path, monkeypatch):
    opened = []

    def opening(home: Home, dataset: str, profile: str, variant: str):
        opened.append((dataset, variant))
        return read_study(home, dataset, profile, variant)

    monkeypatch.setattr(tuned_reference, "read_study", opening)
    monkeypatch.setattr(report_tuning, "read_study", opening)
    write_page(flipped.home, tmp_path, "fast")  # the page and CSV from the same home again
    assert sorted(opened) == [("synthetic-iemocap", "summer"), ("synthetic-iemocap", "summer-no-ikd")]
