"""The one training loop every model shares: seeded, selected on validation, nothing model-specific.

Loss = cross-entropy over real utterances (class-weighted as `TrainConfig.class_weighting` says) + the
model's own (already weighted) auxiliary terms.
The epoch with the best validation weighted-F1 is the result; the best test weighted-F1 over all epochs
is kept apart as the "test oracle", the figure most MERC papers report.

Device placement happens here and nowhere else: the model (with its attached teacher) moves to the
execution's device once, each batch is collated on the CPU and moved over, and the selected weights
are kept on the CPU so that stored weights load anywhere.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from benchmark.data.class_weighting import UNWEIGHTED, inverse_train_validation_frequency
from benchmark.data.collate import IGNORE_LABEL, Dialogue, collate_dialogues, dialogues_from_split
from benchmark.data.schema import MercDataset
from benchmark.early_stopping import EarlyStopping
from benchmark.errors import BenchmarkError
from benchmark.experiment.profiles import TrainConfig
from benchmark.models.contract import MERCModel
from benchmark.seeding import seed_everything
from benchmark.store.records import EpochLog, Predictions, SplitMetrics
from benchmark.training.device_settings import CPU, Execution
from benchmark.training.metrics import PredictionCollector

EpochCallback = Callable[
    [int, int, float, float], None
]  # (epoch, epochs, train loss, validation weighted-F1)


@dataclass(frozen=True)
class TrainingResult:
    best_epoch: int
    validation: SplitMetrics
    test: SplitMetrics
    predictions: Predictions
    test_oracle_weighted_f1: float
    test_oracle_epoch: int
    curves: list[EpochLog]
    best_state: dict[str, torch.Tensor]  # the weights of the selected epoch, on the CPU

    @property
    def seconds_per_epoch(self) -> float:
        return sum(e.seconds for e in self.curves) / len(self.curves)


def train_model(
    model: MERCModel,
    dataset: MercDataset,
    config: TrainConfig,
    on_epoch: EpochCallback | None = None,
    execution: Execution = CPU,
) -> TrainingResult:
    if config.class_weighting != UNWEIGHTED and not config.class_weights:
        raise ValueError("the training config holds no class weights: resolve it with with_class_weights")
    order_generator = seed_everything(config.seed, config.threads, execution.deterministic)
    model.to(execution.torch_device)
    splits = {s: dialogues_from_split(dataset.splits[s], dataset.meta.modalities) for s in dataset.splits}
    classes = dataset.meta.classes
    model.observe_training_labels(torch.cat([d.labels for d in splits["train"]]).to(execution.torch_device))
    optimizer = make_optimizer(model, config)
    curves: list[EpochLog] = []
    stopping = EarlyStopping(config.patience)
    selected: tuple[SplitMetrics, SplitMetrics, Predictions] | None = None
    oracle = (-1.0, 0)
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        loss, terms = train_epoch(model, splits["train"], optimizer, config, order_generator, execution)
        validation, _ = evaluate(model, splits["validation"], config.batch_size, classes, execution)
        test, predictions = evaluate(model, splits["test"], config.batch_size, classes, execution)
        curves.append(
            EpochLog(
                epoch, loss, terms, validation.weighted_f1, test.weighted_f1, time.perf_counter() - started
            )
        )
        if on_epoch is not None:
            on_epoch(epoch, config.epochs, loss, validation.weighted_f1)
        if test.weighted_f1 > oracle[0]:
            oracle = (test.weighted_f1, epoch)
        if stopping.improved(epoch, validation.weighted_f1, model):
            selected = (validation, test, predictions)
        elif stopping.should_stop(epoch):
            break
    assert selected is not None  # epochs >= 1
    validation, test, predictions = selected
    return TrainingResult(
        stopping.best_epoch, validation, test, predictions, oracle[0], oracle[1], curves, stopping.best_state
    )


def with_class_weights(config: TrainConfig, dataset: MercDataset) -> TrainConfig:
    """`config` with the class weights its weighting gives on `dataset`. Weights a config already holds
    must be those (a record's settings say what the run used, or the run does not happen)."""
    weights = inverse_train_validation_frequency(dataset, config.class_weighting)
    if config.class_weights and config.class_weights != weights:
        raise BenchmarkError(
            f"the training config's class weights {config.class_weights} are not the {config.class_weighting} "
            f"weights of {dataset.meta.name} ({weights}): leave class_weights empty to compute them"
        )
    return dataclasses.replace(config, class_weights=weights)


def evaluate(
    model: MERCModel,
    dialogues: list[Dialogue],
    batch_size: int,
    classes: tuple[str, ...],
    execution: Execution = CPU,
    absent: frozenset[str] = frozenset(),
) -> tuple[SplitMetrics, Predictions]:
    """`absent`: the modalities removed from `dialogues` (`Batch.absent`)."""
    model.eval()
    collector = PredictionCollector()
    with torch.no_grad():
        for start in range(0, len(dialogues), batch_size):
            batch = collate_dialogues(dialogues[start : start + batch_size], absent)
            with execution.autocast():
                logits = model(batch.to(execution.torch_device)).logits
            collector.update(batch, logits.float().cpu())
    return collector.compute(classes), collector.predictions()


def train_epoch(
    model: MERCModel,
    dialogues: list[Dialogue],
    optimizer,
    config: TrainConfig,
    generator: torch.Generator,
    execution: Execution = CPU,
) -> tuple[float, dict[str, float]]:
    """One pass over `dialogues` in an order drawn from `generator`: (mean loss, mean of each term)."""
    model.train()
    order = torch.randperm(len(dialogues), generator=generator).tolist()
    sums: dict[str, torch.Tensor] = {}  # on the device, in float64: no host sync per step
    batches = 0
    weights = torch.tensor(config.class_weights) if config.class_weights else None
    for start in range(0, len(order), config.batch_size):
        batch = collate_dialogues([dialogues[i] for i in order[start : start + config.batch_size]])
        batch = dataclasses.replace(batch, class_weights=weights).to(execution.torch_device)
        with execution.autocast():
            output = model(batch)
            logits = output.logits.float()  # the loss in float32 whatever the matrix products used
            ce = F.cross_entropy(
                logits.flatten(0, 1),
                batch.labels.flatten(),
                weight=batch.class_weights,
                ignore_index=IGNORE_LABEL,
                label_smoothing=output.label_smoothing,
            )
            terms = dict(output.aux_losses)
            for name, (head_weight, head_logits) in output.aux_logits.items():
                terms[name] = head_weight * F.cross_entropy(
                    head_logits.float().flatten(0, 1),
                    batch.labels.flatten(),
                    weight=batch.class_weights,
                    ignore_index=IGNORE_LABEL,
                )
            loss = ce + sum(terms.values(), torch.zeros((), device=ce.device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        for name, value in {"loss": loss, "ce": ce, **terms}.items():
            sums[name] = sums.get(name, 0.0) + value.detach().double()
        batches += 1
    means = {name: float(total) / batches for name, total in sums.items()}
    return means.pop("loss"), means


def make_optimizer(model: MERCModel, config: TrainConfig) -> torch.optim.Optimizer:
    optimizers = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    if config.optimizer not in optimizers:
        raise ValueError(f"unknown optimizer {config.optimizer!r}; valid: {', '.join(optimizers)}")
    # fused: one kernel per step instead of one per tensor; on the CPU 5x faster at paper width
    return optimizers[config.optimizer](
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=True
    )
