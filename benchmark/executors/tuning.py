"""`tune`: the same budget of trials for every selected model variant, each trial an ordinary stored run on
the profile's first seed, scored on validation weighted-F1 only; then the best settings on every seed.

Search: Optuna's TPE through ask/tell, each study in a SQLite file in the home (benchmark/store/studies.py).
Trial 0 is the model's defaults, so the tuned configuration is never worse on validation than the
default. [choice] A proposal depends only on the study's complete trials and its trial number: every
ask gets a fresh `TPESampler(seed=sampler_seed + number)`, because one sampler's generator advances with
each ask and a resumed study would then propose other trials than an uninterrupted one. Trials asked
but not told (a killed command, a run that raised) stay RUNNING in the study and are evaluated, with the
same settings, first thing on the next command: the stored runs they finished are reused.

With `--jobs N` a round asks N trials per study before evaluating any (all studies' trials go to the
executor together), so the proposals depend on N as well: the same command, `--jobs` included, proposes
the same trials.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from benchmark.errors import BenchmarkError
from benchmark.executors import Placement, run_sweep
from benchmark.experiment.catalog import MODELS
from benchmark.home import Home
from benchmark.models.search_space import TRAIN_SETTINGS, SearchSpace, settings_of, settings_text
from benchmark.store.records import RunKey
from benchmark.store.studies import SETTINGS_ATTRIBUTE, TuningSummary, read_study, storage_url, study_path
from benchmark.training.runner import RunPlan, overrides_of, resolve_runs

SAMPLER_SEED = 0  # the default base seed of the proposals
# [choice] complete trials before TPE models them: Optuna's default 10 would leave a small budget random
STARTUP_TRIALS = 4


def tunable_space(plan: RunPlan) -> SearchSpace:
    """The settings of `plan`'s model that change its variant: none its ablation fixes, none that do
    nothing in its config (κ without distillation)."""
    fixed = overrides_of(plan.key)
    space = MODELS.get(plan.key.model).search_space
    return {
        name: param for name, param in space.items() if name not in fixed and param.applies(plan.model_config)
    }


def default_values(plan: RunPlan, space: SearchSpace) -> dict[str, Any]:
    """The values `plan` (a run without settings) trains with, for each setting of `space`."""
    return {
        name: getattr(plan.train if name in TRAIN_SETTINGS else plan.model_config, name) for name in space
    }


@dataclasses.dataclass
class Study:
    """One variant's study: its default run's plan, what it searches, and its Optuna study."""

    plan: RunPlan
    space: SearchSpace
    defaults: dict[str, Any]
    optuna_study: Any

    def settings_from(self, params: dict[str, Any]) -> str:
        """The run key's settings of a trial: the values that differ from the defaults (none: the default run)."""
        return settings_text({name: value for name, value in params.items() if value != self.defaults[name]})

    def trial_key(self, settings: str) -> RunKey:
        return dataclasses.replace(self.plan.key, settings=settings)


def open_study(plan: RunPlan, home: Home, sampler_seed: int) -> Study:
    import optuna

    key = plan.key
    path = study_path(home, key.dataset, key.profile, key.variant)
    path.parent.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=key.variant,
        storage=optuna.storages.RDBStorage(storage_url(path)),
        direction="maximize",
        load_if_exists=True,
    )
    space = tunable_space(plan)
    defaults = default_values(plan, space)
    if not study.trials:
        for name, value in {"trial_seed": key.seed, "sampler_seed": sampler_seed}.items():
            study.set_user_attr(name, value)
        study.enqueue_trial(defaults)
    elif study.user_attrs["sampler_seed"] != sampler_seed:
        raise BenchmarkError(
            f"{path}: this study's proposals use --sampler-seed {study.user_attrs['sampler_seed']}, not "
            f"{sampler_seed}: give that, or delete the file to start the study afresh"
        )
    return Study(plan, space, defaults, study)


def ask(study: Study, sampler_seed: int) -> tuple[int, str]:
    """The next trial's number and settings, its proposal a function of the complete trials and its
    number alone."""
    import optuna

    optuna_study = study.optuna_study
    number = len(optuna_study.get_trials(deepcopy=False))
    optuna_study.sampler = optuna.samplers.TPESampler(
        seed=sampler_seed + number, n_startup_trials=STARTUP_TRIALS
    )
    trial = optuna_study.ask({name: param.distribution() for name, param in study.space.items()})
    settings = study.settings_from(trial.params)
    trial.set_user_attr(SETTINGS_ATTRIBUTE, settings)
    return trial.number, settings


def pending_trials(study: Study, budget: int, batch: int, sampler_seed: int) -> list[tuple[int, str]]:
    """This round's trials of `study` (number, settings): those asked but never told, else up to `batch`
    new ones."""
    import optuna

    optuna_study = study.optuna_study
    running = optuna_study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    if running:
        return [(frozen.number, frozen.user_attrs[SETTINGS_ATTRIBUTE]) for frozen in running]
    asked = len(optuna_study.get_trials(deepcopy=False))
    return [ask(study, sampler_seed) for _ in range(min(batch, budget - asked))]


def tune(
    keys: Sequence[RunKey],
    home: Home,
    placement: Placement,
    budget: int,
    sampler_seed: int = SAMPLER_SEED,
    seeds: Sequence[int] = (),
) -> list[TuningSummary]:
    """`budget` trials for each of `keys` (default runs on the trial seed), then each one's best settings
    trained on `seeds`. A rerun of the same call trains nothing new."""
    defaults = resolve_runs(keys, home, placement.execution)
    studies = [open_study(run.plan, home, sampler_seed) for run in defaults]
    batch = placement.jobs or 1
    while True:
        round_trials = [
            (study, number, settings)
            for study in studies
            for number, settings in pending_trials(study, budget, batch, sampler_seed)
        ]
        if not round_trials:
            break
        trial_keys = [study.trial_key(settings) for study, _, settings in round_trials]
        records = run_sweep(resolve_runs(trial_keys, home, placement.execution), home, placement)
        for (study, number, _), record in zip(round_trials, records, strict=True):
            study.optuna_study.tell(number, record.validation.weighted_f1)
    summaries = [read_study(home, k.dataset, k.profile, k.variant) for k in keys]
    final_keys = [
        dataclasses.replace(key, seed=seed, settings=summary.best.settings)
        for key, summary in zip(keys, summaries, strict=True)
        for seed in seeds
    ]
    if final_keys:
        run_sweep(resolve_runs(final_keys, home, placement.execution), home, placement)
    return summaries


def tuned_keys(keys: Sequence[RunKey], home: Home) -> list[RunKey]:
    """`keys` with their study's chosen settings (`run --tuned`); a key whose variant was never tuned is
    one line naming the `tune` command that tunes it."""
    tuned = []
    for key in keys:
        summary = read_study(home, key.dataset, key.profile, key.variant)
        if summary is None:
            raise BenchmarkError(
                f"{key.variant} on {key.dataset} ({key.profile}) was never tuned: run `python -m benchmark tune "
                f"--model {key.model} --dataset {key.dataset} --profile {key.profile} --trials N` first"
            )
        settings_of(key.model, MODELS.get(key.model).search_space, summary.best.settings)  # still valid
        tuned.append(dataclasses.replace(key, settings=summary.best.settings))
    return tuned
