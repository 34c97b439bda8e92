"""Search spaces, `--set`, `tune` and the report's tuning section. The tuned home is shared by the module:
one study of TFN on the smoke profile (the smaller smoke of tests/smoke_fixtures.py, which the tests that
read the home use too), 3 trials, interrupted once by a trial that raises."""

from __future__ import annotations

import dataclasses
import json

import datasets
import optuna
import pytest

from benchmark.commands.cli import main as cli_main
from benchmark.errors import BenchmarkError
from benchmark.executors import Placement, local, tuning
from benchmark.home import REFERENCE_DIR, Home
from benchmark.models.search_space import settings_shown
from benchmark.report import write_reports
from benchmark.report.tuning import Protocol, expected_maximum, tuning_table
from benchmark.store.records import RunKey
from benchmark.store.runs import RunStore
from benchmark.store.studies import Trial, TuningSummary, read_study, study_path
from benchmark.training import runner
from benchmark.training.device_settings import Execution
from tests.smoke_fixtures import use_smaller_smoke

TRIALS = 3
KEY = RunKey("tfn", "none", "synthetic-iemocap", "smoke", 0)
ON_THE_CPU = Placement(Execution("cpu", threads=2))
SMOKE_TFN = ["--model", "tfn", "--dataset", "synthetic-iemocap", "--profile", "smoke"]


@pytest.mark.parametrize(
    ("model", "setting", "message"),
    [
        (
            "tfn",
            "rank=2",
            "model 'tfn' has no setting 'rank'; its settings: dropout, fusion_width, lr, weight_decay",
        ),
        ("tfn", "lr=0.5", "lr takes a number in [1e-06, 0.01]"),
        ("tfn", "lr=fast", "lr takes a number"),
        ("summer", "experts=2.5", "experts takes a whole number"),
        ("summer", "experts=40", "experts takes a whole number in [2, 8]"),
        ("tfn", "lr", "--set 'lr': expected KEY=VALUE, e.g. --set lr=0.001"),
        ("tfn", "lr=", "--set lr=: lr takes a number"),
    ],
)
def test_a_setting_outside_the_space_is_one_line_before_any_data_loads(
    model, setting, message, tmp_path, capsys
):
    home = tmp_path / "home"
    argv = ["run", "--model", model, "--dataset", "synthetic-iemocap", "--profile", "smoke", "--set", setting]
    assert cli_main([*argv, "--home", str(home)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and message in error[0]
    assert not (home / "results").exists()  # refused where parsed: nothing generated, nothing trained


def test_a_setting_given_twice_is_refused_rather_than_the_last_one_taken():
    with pytest.raises(BenchmarkError, match="--set lr: given twice"):
        runner.plan(["tfn"], ["synthetic-iemocap"], "smoke", None, ["none"], ["lr=0.001", "lr=0.002"])


def test_a_setting_may_not_undo_its_ablation():
    with pytest.raises(BenchmarkError, match="the ablation 'label-smoothing' fixes label_smoothing"):
        runner.plan(
            ["summer"], ["synthetic-iemocap"], "smoke", None, ["label-smoothing"], ["label_smoothing=0.2"]
        )


def test_settings_go_into_the_key_canonically_and_out_of_the_default_path():
    (first,) = runner.plan(
        ["tfn"], ["synthetic-iemocap"], "smoke", None, ["none"], ["lr=0.001", "fusion_width=8"]
    )
    (same,) = runner.plan(
        ["tfn"], ["synthetic-iemocap"], "smoke", None, ["none"], ["fusion_width=8", "lr=1e-3"]
    )
    (default,) = runner.plan(["tfn"], ["synthetic-iemocap"], "smoke", None, ["none"])
    assert first == same and first.settings == "fusion_width=8,lr=0.001"
    assert (
        default.relative_path() == "synthetic-iemocap/smoke/tfn/seed-0.json"
        and "settings" not in default.to_json()
    )
    assert first.relative_path() != default.relative_path() and first.to_json()["settings"] == first.settings


def test_expected_maximum_is_show_your_works_formula_by_hand():
    scores = [0.5, 0.7, 0.6]  # sorted 0.5, 0.6, 0.7; N = 3
    assert expected_maximum(scores, 1) == pytest.approx(0.6)  # the mean
    # n = 2: 0.5 (1/9) + 0.6 (4/9 - 1/9) + 0.7 (1 - 4/9) = 5.8 / 9
    assert expected_maximum(scores, 2) == pytest.approx(5.8 / 9)
    # n = 3: 0.5 (1/27) + 0.6 (8/27 - 1/27) + 0.7 (1 - 8/27) = 18 / 27
    assert expected_maximum(scores, 3) == pytest.approx(18 / 27)
    assert expected_maximum(scores, 200) == pytest.approx(0.7)


def trial_settings(home: Home) -> list[tuple[int, str, str]]:
    path = study_path(home, KEY.dataset, KEY.profile, KEY.variant)
    study = optuna.load_study(study_name=KEY.variant, storage=f"sqlite:///{path}")
    return [(t.number, t.state.name, t.user_attrs["settings"]) for t in study.get_trials(deepcopy=False)]


@dataclasses.dataclass
class TunedHome:
    home: Home
    interrupted: list  # the study after the trial that raised
    trained_on_resume: list[RunKey]
    default_bytes: bytes  # the default run's record as trial 0 wrote it


@pytest.fixture(scope="module")
def tuned(tmp_path_factory) -> TunedHome:
    """tune with a trial that raises once (the study keeps it RUNNING), then the same call again."""
    home = Home(tmp_path_factory.mktemp("tuned") / "home")
    sweeps, trained = [], []
    real_sweep, real_record_run = tuning.run_sweep, local.record_run

    def sweep_raising_on_the_second(runs, *args, **kwargs):
        sweeps.append(1)
        if len(sweeps) == 2:
            raise RuntimeError("a trial that crashes once")
        return real_sweep(runs, *args, **kwargs)

    def counted_record_run(run, *args, **kwargs):
        trained.append(run.plan.key)
        return real_record_run(run, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        use_smaller_smoke(patch)
        patch.setattr(tuning, "run_sweep", sweep_raising_on_the_second)
        with pytest.raises(RuntimeError, match="crashes once"):
            tuning.tune([KEY], home, ON_THE_CPU, TRIALS, seeds=(0,))
        interrupted = trial_settings(home)
        default_bytes = RunStore(home).path(KEY).read_bytes()
        patch.setattr(local, "record_run", counted_record_run)
        tuning.tune([KEY], home, ON_THE_CPU, TRIALS, seeds=(0,))
    return TunedHome(home, interrupted, trained, default_bytes)


def test_tune_resumes_a_crashed_trial_with_its_settings_and_retrains_nothing_finished(tuned, smaller_smoke):
    after = trial_settings(tuned.home)
    assert [state for _, state, _ in tuned.interrupted] == ["COMPLETE", "RUNNING"]
    assert after[1] == (1, "COMPLETE", tuned.interrupted[1][2])  # the crashed trial, retried as proposed
    assert [state for _, state, _ in after] == ["COMPLETE"] * TRIALS
    # the defaults (trial 0) were not trained again; trials 1 and 2 were, once each
    assert [key.settings for key in tuned.trained_on_resume] == [after[1][2], after[2][2]]
    assert RunStore(tuned.home).path(KEY).read_bytes() == tuned.default_bytes


def test_tune_proposes_the_same_trials_from_scratch_and_a_rerun_trains_nothing(
    tuned, smaller_smoke, monkeypatch
):
    before = trial_settings(tuned.home)
    values = [trial.validation_weighted_f1 for trial in read_study(tuned.home, *_where()).trials]
    study_path(tuned.home, *_where()).unlink()  # the same command on a study started afresh
    monkeypatch.setattr(local, "record_run", lambda *a, **k: pytest.fail("trained a stored run again"))
    tuning.tune([KEY], tuned.home, ON_THE_CPU, TRIALS, seeds=(0,))
    assert trial_settings(tuned.home) == before
    assert [trial.validation_weighted_f1 for trial in read_study(tuned.home, *_where()).trials] == values


def _where() -> tuple[str, str, str]:
    return KEY.dataset, KEY.profile, KEY.variant


def test_the_default_run_keeps_the_gates_hash_and_a_set_run_has_its_own(tuned, monkeypatch):
    store = RunStore(tuned.home)
    default = json.loads(store.path(KEY).read_text())
    reference = json.loads((REFERENCE_DIR / "smoke.json").read_text())["entries"]["synthetic-iemocap/tfn"]
    # the home was tuned at the smaller smoke: its default run is the run a plain `run` of the key resolves
    # to there, and at the smoke profile that run's hash is the gate's
    assert runner.resolve_run(KEY, tuned.home).plan.config_hash == reference["config_hash"]
    use_smaller_smoke(monkeypatch)
    assert default["config_hash"] == runner.resolve_run(KEY, tuned.home).plan.config_hash
    assert "settings" not in default["key"] and "settings" not in default["config"]
    settings = trial_settings(tuned.home)[1][2]
    trial = store.read(dataclasses.replace(KEY, settings=settings))
    assert trial.config_hash != default["config_hash"] and trial.key.settings == settings
    assert trial.config.settings["lr"] == trial.config.train["lr"]  # applied where the setting lives
    assert trial.config.settings["fusion_width"] == trial.config.model_config["fusion_width"]


def test_run_tuned_takes_the_chosen_settings_and_refuses_an_untuned_variant(tuned, smaller_smoke):
    summary = read_study(tuned.home, *_where())
    assert summary.best.validation_weighted_f1 == max(t.validation_weighted_f1 for t in summary.trials)
    assert tuning.tuned_keys([KEY], tuned.home) == [dataclasses.replace(KEY, settings=summary.best.settings)]
    with pytest.raises(BenchmarkError, match="lmf on synthetic-iemocap \\(smoke\\) was never tuned"):
        tuning.tuned_keys([dataclasses.replace(KEY, model="lmf")], tuned.home)


def test_the_report_shows_the_protocol(tuned, smaller_smoke):
    write_reports(tuned.home, resamples=50, warn=lambda line: None)
    folder = tuned.home.reports / "synthetic-iemocap-smoke"
    report = (folder / "report.md").read_text()
    summary = read_study(tuned.home, *_where())
    row = next(line for line in report.splitlines() if line.startswith("| tfn | 3 | 0 |"))
    assert f"| {settings_shown(summary.best.settings) or 'the defaults'} |" in row
    assert f"{100 * summary.default.validation_weighted_f1:.2f}" in row
    assert (folder / "expected_max.png").stat().st_size > 0
    claims = json.loads((folder / "claims.json").read_text())["claims"]
    assert all("tuned on validation (3 trials each): tfn" in claim["data"] for claim in claims)


# a study whose choice is a proposal's float, all 17 digits of it
CHOSEN = TuningSummary(
    "tfn",
    "synthetic-iemocap",
    "smoke",
    0,
    [Trial(0, "", 0.5), Trial(1, "fusion_width=64,lr=0.0012345678901234", 0.6)],
)


def test_tune_prints_the_chosen_settings_to_four_significant_digits(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(tuning, "tune", lambda *args: [CHOSEN])  # what `tune` returns; nothing trains
    argv = [*SMOKE_TFN, "--trials", str(TRIALS), "--device", "cpu", "--home", str(tmp_path / "home")]
    assert cli_main(["tune", *argv]) == 0
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "validation wF1 default" in line]
    assert line.endswith("default 50.00%, tuned 60.00% (fusion_width=64,lr=0.001235)")


def test_the_reports_tuning_table_shows_them_so_too():
    (row,) = tuning_table(Protocol([], [], {"tfn": CHOSEN})).to_dict("records")
    assert row["chosen settings"] == "fusion_width=64,lr=0.001235"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("", ""),
        ("dropout=0.30000000000000004,experts=4,lr=0.0012345678901234", "dropout=0.3,experts=4,lr=0.001235"),
        ("weight_decay=1.2345678e-07", "weight_decay=1.235e-07"),
    ],
)
def test_chosen_settings_are_shown_to_four_significant_digits_and_whole_numbers_whole(text, shown):
    assert settings_shown(text) == shown


@pytest.mark.slow
def test_the_choice_is_made_on_validation_only(tuned, smaller_smoke, tmp_path, monkeypatch):
    """The same trials on data whose test labels are scrambled: the same choice, other test scores."""
    real = runner.profile_dataset

    def scrambled(key, home):
        dataset = real(key, home)

        def shuffle(row):
            return {"labels": row["labels"][::-1]}

        splits = datasets.DatasetDict({**dataset.splits, "test": dataset.splits["test"].map(shuffle)})
        return dataclasses.replace(dataset, splits=splits)

    monkeypatch.setattr(runner, "profile_dataset", scrambled)
    home = Home(tmp_path / "home")
    (summary,) = tuning.tune([KEY], home, ON_THE_CPU, TRIALS, seeds=(0,))
    original = read_study(tuned.home, *_where())
    assert summary.trials == original.trials and summary.best == original.best
    chosen = dataclasses.replace(KEY, settings=summary.best.settings)
    assert RunStore(home).read(chosen).test != RunStore(tuned.home).read(chosen).test


def test_every_default_lies_in_its_models_space():
    """Trial 0 enqueues the defaults: each must be a value of its setting's range, at every profile and
    for both dataset families (where the defaults differ by family)."""
    from baselines.multiemo import AUTHORS_LOSS
    from baselines.sdt import TEMPERATURE as SDT_TEMPERATURE
    from benchmark.experiment.catalog import MODELS
    from benchmark.experiment.profiles import PROFILES
    from summer.config import TEMPERATURE as SUMMER_TEMPERATURE

    def check(model: str, name: str, value) -> None:
        MODELS.get(model).search_space[name].parse(name, repr(value))  # raises when out of range

    for profile in map(PROFILES.get, PROFILES.names()):
        check("tfn", "dropout", profile.dims.dropout)
        for train in profile.train.values():
            check("tfn", "lr", train.lr)
            check("tfn", "weight_decay", train.weight_decay)
    for family in ("iemocap", "meld"):
        check("summer", "temperature", SUMMER_TEMPERATURE[family])
        check("sdt", "temperature", SDT_TEMPERATURE[family])
        loss = AUTHORS_LOSS[family]
        for name, value in {"swfc_weight": loss.swfc / loss.ce, "hgr_weight": loss.hgr / loss.ce,
                            "temperature": loss.temperature, "focus": loss.focus,
                            "sample_weight_power": loss.sample_weight_power}.items():  # fmt: skip
            check("multiemo", name, value)
