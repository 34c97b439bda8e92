"""Tuning studies on disk: one Optuna study per (dataset, profile, variant) in its own SQLite file, as
`tune` (benchmark/executors/tuning.py) writes them and `run --tuned` and the report read them. Each complete trial
holds its validation weighted-F1 (the value) and the settings of its stored run (user attribute)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchmark.home import Home
from benchmark.stored import StoredFileError, one_line, typed

SETTINGS_ATTRIBUTE = "settings"  # a trial's settings in their canonical form: its run key's `settings`


def study_path(home: Home, dataset: str, profile: str, variant: str) -> Path:
    return home.results / "tuning" / dataset / profile / f"{variant}.db"


def storage_url(path: Path) -> str:
    return f"sqlite:///{path}"


@dataclass(frozen=True)
class Trial:
    number: int
    settings: str  # "" for the model's defaults
    validation_weighted_f1: float


@dataclass(frozen=True)
class TuningSummary:
    """A study's complete trials, in trial order, and what `tune` chose from them."""

    variant: str
    dataset: str
    profile: str
    trial_seed: int  # the one seed every trial trains on
    trials: list[Trial]

    @property
    def best(self) -> Trial:
        """The best validation weighted-F1; on a tie the earliest trial (the defaults are trial 0)."""
        return max(self.trials, key=lambda trial: (trial.validation_weighted_f1, -trial.number))

    @property
    def default(self) -> Trial | None:
        return next((trial for trial in self.trials if not trial.settings), None)


def read_study(home: Home, dataset: str, profile: str, variant: str) -> TuningSummary | None:
    """The study of `variant`, or None when `tune` has not run it (or finished no trial of it)."""
    path = study_path(home, dataset, profile, variant)
    if not path.exists():
        return None
    import optuna
    import sqlalchemy.exc

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.load_study(study_name=variant, storage=storage_url(path))
        complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if not complete:
            return None
        raw = {
            "variant": variant,
            "dataset": dataset,
            "profile": profile,
            "trial_seed": study.user_attrs.get("trial_seed"),
            "trials": [
                {
                    "number": trial.number,
                    "settings": trial.user_attrs.get(SETTINGS_ATTRIBUTE),
                    "validation_weighted_f1": trial.value,
                }
                for trial in complete
            ],
        }
        summary = typed(TuningSummary, raw)
    except (KeyError, ValueError, RuntimeError, sqlalchemy.exc.SQLAlchemyError) as err:
        # ShapeError is a ValueError; a file that is not SQLite, or one cut short, is SQLAlchemy's error
        raise StoredFileError(
            path, "tuning study", one_line(err), f"delete it and rerun `tune` for {variant}"
        ) from None
    return summary
