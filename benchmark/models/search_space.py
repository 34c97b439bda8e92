"""What a model lets `tune` search and `run --set` change: a typed range per setting.

Every model shares the training knobs of `SHARED_SPACE` (learning rate, weight decay, dropout); a model
adds its own [choice]s with `register_model(..., search_space=...)` in the same file as its config. A
setting names either a field of the training config (`TRAIN_SETTINGS`) or a field of the model's
config. Ranges and their sources: docs/model.md, "Search spaces".

Settings travel as one canonical string ("dropout=0.3,lr=0.001": sorted, each value in its type's
`repr`), which is what a run key holds: the same settings always give the same string.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from benchmark.errors import BenchmarkError, split_assignment

TRAIN_SETTINGS = ("lr", "weight_decay")  # fields of TrainConfig; every other setting is the model's
SEPARATOR = ","


def always(config: Any) -> bool:
    return True


@dataclass(frozen=True)
class FloatRange:
    low: float
    high: float
    log: bool = False  # log-uniform: for scales (learning rates, loss weights)
    source: str = ""  # where the range comes from (docs/model.md repeats it)
    # whether the setting changes anything in a model of this config (e.g. κ without distillation): `tune`
    # searches only the settings that do
    applies: Callable[[Any], bool] = always

    def parse(self, name: str, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise BenchmarkError(f"--set {name}={text}: {name} takes a number") from None
        if not (math.isfinite(value) and self.low <= value <= self.high):
            raise BenchmarkError(
                f"--set {name}={text}: {name} takes a number in [{self.low:g}, {self.high:g}]"
            )
        return value

    def distribution(self):
        from optuna.distributions import FloatDistribution

        return FloatDistribution(self.low, self.high, log=self.log)


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int
    source: str = ""
    applies: Callable[[Any], bool] = always

    def parse(self, name: str, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise BenchmarkError(f"--set {name}={text}: {name} takes a whole number") from None
        if not self.low <= value <= self.high:
            raise BenchmarkError(
                f"--set {name}={text}: {name} takes a whole number in [{self.low}, {self.high}]"
            )
        return value

    def distribution(self):
        from optuna.distributions import IntDistribution

        return IntDistribution(self.low, self.high)


Param = FloatRange | IntRange
SearchSpace = Mapping[str, Param]

# [choice] the shared knobs, the same ranges for every model (docs/model.md, "Search spaces")
SHARED_SPACE: dict[str, Param] = {
    "lr": FloatRange(1e-6, 1e-2, log=True, source="spans the paper profile's 5e-6 (MELD) to fast's 2e-3, x5"),
    "weight_decay": FloatRange(1e-7, 1e-3, log=True, source="the specification's 1e-5, two decades each way"),
    "dropout": FloatRange(0.0, 0.5, source="0 to the specification's 0.5"),
}


def parse_settings(model: str, space: SearchSpace, assignments: list[str]) -> dict[str, Any]:
    """`--set KEY=VALUE` pairs -> typed settings of `model`, each in its range; anything else is one line."""
    settings: dict[str, Any] = {}
    for assignment in assignments:
        name, text = split_assignment(assignment, "--set", "KEY=VALUE, e.g. --set lr=0.001")
        if name not in space:
            raise BenchmarkError(
                f"--set {name}: model {model!r} has no setting {name!r}; its settings: {', '.join(sorted(space))}"
            )
        if name in settings:
            raise BenchmarkError(f"--set {name}: given twice; give each setting once")
        settings[name] = space[name].parse(name, text)
    return settings


def settings_text(settings: Mapping[str, Any]) -> str:
    """The canonical string of `settings` (a run key's `settings`); "" for none."""
    return SEPARATOR.join(f"{name}={settings[name]!r}" for name in sorted(settings))


def settings_shown(text: str) -> str:
    """A canonical settings string as a reader sees it: each fractional value to 4 significant digits, each
    whole number as it is; "" for none. A trial's proposal carries all 17 digits of its float, which the
    run key and the study keep, so `run --tuned` trains the exact value the console abbreviates."""
    items = [item.partition("=") for item in text.split(SEPARATOR)] if text else []
    return SEPARATOR.join(f"{name}={_value_shown(value)}" for name, _, value in items)


def _value_shown(value: str) -> str:
    try:
        return str(int(value))
    except ValueError:
        return f"{float(value):.4g}"


def settings_of(model: str, space: SearchSpace, text: str) -> dict[str, Any]:
    """The typed settings a canonical string holds (`settings_text`'s inverse)."""
    return parse_settings(model, space, text.split(SEPARATOR)) if text else {}


def split_settings(settings: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the training config's fields, the model config's fields) that `settings` set."""
    train = {name: value for name, value in settings.items() if name in TRAIN_SETTINGS}
    return train, {name: value for name, value in settings.items() if name not in TRAIN_SETTINGS}
