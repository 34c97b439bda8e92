"""What every reference adapter shares: the pinned clone, its patched import, the settings both sides
train with, and the validation-selected scores of a reference's own training loop.

An adapter (one file per reference) subclasses `Reference`: it names the repository, the pinned
commit, the rival it checks and the patches current torch or a CPU needs; it writes our data in the
reference's input format and trains the reference's model with the reference's loss, optimizer and
loop. Nothing here knows one reference from another.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from benchmark.data.class_weighting import INVERSE_FREQUENCY, UNWEIGHTED, inverse_train_validation_frequency
from benchmark.data.schema import MercDataset
from benchmark.errors import BenchmarkError
from benchmark.experiment.profiles import PROFILES
from benchmark.store.records import SplitMetrics
from benchmark.training.metrics import split_metrics


@dataclass(frozen=True)
class Patch:
    """One textual change to a reference file: `old` must occur in the pinned file, or the clone is not
    the pinned commit and the check stops."""

    file: str  # relative to the clone, e.g. "model.py"
    old: str
    new: str
    why: str


@dataclass(frozen=True)
class Settings:
    """The hyper-parameters both sides train with, set here whatever main's training defaults are."""

    width: int
    heads: int
    dropout: float
    lr: float
    epochs: int
    batch_size: int
    weight_decay: float
    class_weights: tuple[float, ...]  # () = unweighted cross-entropy
    grad_clip: float  # max gradient norm; 0 = none
    seed: int
    device: str  # "cpu" or "cuda"
    threads: int  # torch threads, part of determinism (the profiles use 2)


@dataclass(frozen=True)
class EpochPredictions:
    """A reference's argmax predictions on the real utterances of validation and test, dialogue by
    dialogue in our split order, after one training epoch."""

    validation: np.ndarray
    test: np.ndarray
    seconds: float  # the training pass plus both evaluations, as our trainer times an epoch


@dataclass(frozen=True)
class SelectedScores:
    best_epoch: int
    test: SplitMetrics
    seconds_per_epoch: float


def split_labels(dataset: MercDataset, split: str) -> np.ndarray:
    return np.concatenate(dataset.splits[split]["labels"]).astype(int)


def select_on_validation(dataset: MercDataset, epochs: Sequence[EpochPredictions]) -> SelectedScores:
    """Our protocol on the reference's epochs: the first epoch with the best validation weighted-F1
    gives the test scores (the references themselves keep their best test epoch)."""
    classes = dataset.meta.classes
    validation_labels, test_labels = split_labels(dataset, "validation"), split_labels(dataset, "test")
    scores = [split_metrics(validation_labels, e.validation, classes).weighted_f1 for e in epochs]
    best = int(np.argmax(scores))
    return SelectedScores(
        best_epoch=best + 1,
        test=split_metrics(test_labels, epochs[best].test, classes),
        seconds_per_epoch=float(np.mean([e.seconds for e in epochs])),
    )


def timed_epochs(
    epochs: int,
    train_pass: Callable[[int], object],
    predict: Callable[[Iterable, int], np.ndarray],
    validation: Iterable,
    test: Iterable,
) -> list[EpochPredictions]:
    """The one epoch adapter of every reference: each of `epochs` epochs (numbered from 0, as the
    references count) is `train_pass(epoch)` (one pass over the training data in the reference's own
    code), then `predict(validation, epoch)` and `predict(test, epoch)`, in that order, timed."""
    done = []
    for epoch in range(epochs):
        started = time.perf_counter()
        train_pass(epoch)
        predicted = predict(validation, epoch), predict(test, epoch)
        done.append(EpochPredictions(*predicted, time.perf_counter() - started))
    return done


def real_predictions(predicted: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
    """Argmax predictions of the real utterances of a [B, T, C] (or [B, T]) batch, row-major."""
    if predicted.dim() == 3:
        predicted = predicted.argmax(-1)
    return predicted.detach().cpu()[mask.detach().cpu().bool()].numpy()


class Reference:
    """One reference implementation, pinned. Subclasses set the class attributes and the methods."""

    name: str  # the key of the command line and the report, e.g. "sdt"
    rival: str  # our registered model it checks
    repository: str  # owner/name on GitHub
    commit: str  # the full pinned commit
    files: tuple[str, ...]  # the files imported, in import order ("modules/transformer.py", ...)
    patches: tuple[Patch, ...] = ()
    weight_decay: dict[str, float]  # by dataset family, from the reference's scripts
    class_weighted: frozenset[str]  # dataset families its loss weights by inverse class frequency
    grad_clip: float = 0.0  # the max gradient norm its loop clips to; 0 = none
    published: dict[str, dict]  # by family: width, heads, dropout, lr, epochs, batch_size (--width paper)
    stubs: dict[str, str] = {}  # module name -> why: imports the files make but the checked path never uses

    def check_clone(self, clone: Path) -> None:
        """A git checkout must be at the pinned commit; a plain folder is trusted with a warning."""
        if not clone.is_dir():
            raise BenchmarkError(
                f"{self.name}: {clone} is not a folder: git clone https://github.com/{self.repository} "
                f"and check out {self.commit[:7]}"
            )
        missing = [f for f in self.files if not (clone / f).is_file()]
        if missing:
            raise BenchmarkError(
                f"{self.name}: {clone} has no {', '.join(missing)}: is it {self.repository}?"
            )
        if (clone / ".git").exists():
            head = subprocess.run(
                ["git", "-C", str(clone), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
            ).stdout.strip()
            if head != self.commit:
                raise BenchmarkError(
                    f"{self.name}: {clone} is at {head[:7] or 'no commit'}, the check is pinned to "
                    f"{self.commit[:7]}: run `git -C {clone} checkout {self.commit[:7]}`"
                )
        else:
            print(f"warning: {self.name}: {clone} is not a git checkout; trusting it is {self.commit[:7]}")

    @contextlib.contextmanager
    def imported(self, clone: Path) -> Iterator[dict[str, types.ModuleType]]:
        """The reference's files as modules, with `patches` applied and each printed; removed from
        `sys.modules` afterwards, so two references' `model.py` never meet."""
        names = [self.module_name(f) for f in self.files]
        packages = {n.rsplit(".", 1)[0] for n in names if "." in n}
        taken = [*names, *packages, *self.stubs]
        saved = {n: sys.modules[n] for n in taken if n in sys.modules}
        search_path = list(sys.path)  # a reference's file may append its own folders to it
        try:
            for stub, why in self.stubs.items():
                print(f"patch {self.name}: `import {stub}` gets an empty module ({why})")
                sys.modules[stub] = _stub_module(stub)
            for package in packages:
                module = types.ModuleType(package)
                module.__path__ = [str(clone / package.replace(".", "/"))]
                sys.modules[package] = module
            modules = {}
            for file, name in zip(self.files, names, strict=True):
                source = self._patched_source(clone, file)
                module = types.ModuleType(name)
                module.__file__ = str(clone / file)
                sys.modules[name] = module
                exec(compile(source, str(clone / file), "exec"), module.__dict__)
                modules[name] = module
            yield modules
        finally:
            for name in taken:
                sys.modules.pop(name, None)
            sys.modules.update(saved)
            sys.path[:] = search_path

    def module_name(self, file: str) -> str:
        """The name `file` is imported under: its dotted path, as the reference's own imports name it
        (`modules/transformer.py` -> `modules.transformer`)."""
        return file.removesuffix(".py").replace("/", ".")

    def _patched_source(self, clone: Path, file: str) -> str:
        source = (clone / file).read_text(encoding="utf-8")
        for patch in self.patches:
            if patch.file != file:
                continue
            if patch.old not in source:
                raise BenchmarkError(
                    f"{self.name}: {file} of {clone} lacks the code a patch replaces: is it "
                    f"{self.repository} at {self.commit[:7]}?"
                )
            source = source.replace(patch.old, patch.new)
            print(f"patch {self.name}/{file}: {patch.why}")
        return source

    # What each adapter implements -------------------------------------------------------------

    def write_inputs(self, dataset: MercDataset, folder: Path) -> None:
        """Write `dataset` in the reference's own input format under `folder` (its working folder)."""
        raise NotImplementedError

    def settings(self, dataset: MercDataset, width: str, seed: int, device: str, threads: int) -> Settings:
        """Both sides' settings: at `fast` (or `smoke`), that profile's width, heads, dropout, learning
        rate, batch and epochs; at `paper`, the reference's published ones. Weight decay, class weights
        and clipping are always the reference's."""
        family = dataset.meta.family
        if width == "paper":
            chosen = dict(self.published[family])
        else:
            profile = PROFILES.get(width)
            train = profile.train[family]
            chosen = {
                "width": profile.dims.width,
                "heads": profile.dims.heads,
                "dropout": profile.dims.dropout,
                "lr": train.lr,
                "epochs": train.epochs,
                "batch_size": train.batch_size,
            }
        weighting = INVERSE_FREQUENCY if family in self.class_weighted else UNWEIGHTED
        weights = inverse_train_validation_frequency(dataset, weighting)
        return Settings(
            **chosen,
            weight_decay=self.weight_decay[family],
            class_weights=weights,
            grad_clip=self.grad_clip,
            seed=seed,
            device=device,
            threads=threads,
        )

    def rival_overrides(self, dataset: MercDataset, settings: Settings) -> dict:
        """Options of our rival that the reference fixes (e.g. SDT's temperature)."""
        return {}

    def rival_weight_decay(self, dataset: MercDataset, settings: Settings) -> float:
        """The weight decay our rival trains with: the reference's, unless our loss is the reference's
        scaled by a constant (then the decay is scaled alike, which gives the same Adam steps)."""
        return settings.weight_decay

    def build(self, modules: dict[str, types.ModuleType], dataset: MercDataset, settings: Settings):
        """The reference's model at `settings`, on the CPU."""
        raise NotImplementedError

    def train(
        self,
        modules: dict[str, types.ModuleType],
        model,
        dataset: MercDataset,
        folder: Path,
        settings: Settings,
    ) -> list[EpochPredictions]:
        """Train `model` with the reference's loss, optimizer and loop on the files in `folder`."""
        raise NotImplementedError

    def differences(self) -> tuple[str, ...]:
        """What still differs between the reference and our rival, each named (the report lists them)."""
        return ()


def _stub_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name)

    def absent(attribute: str):  # the names imported from a stub exist, but using one is an error
        if attribute.startswith("__"):
            raise AttributeError(attribute)

        def unavailable(*_args, **_kwargs):
            raise BenchmarkError(f"{name}.{attribute} is stubbed out for the cross-check and was used")

        return unavailable

    module.__getattr__ = absent
    return module
