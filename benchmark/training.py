"""The one training loop every model shares: seeded, selected on validation, nothing model-specific.

Loss = cross-entropy over real utterances + the model's own (already weighted) auxiliary terms.
The epoch with the best validation weighted-F1 is the result; the best test weighted-F1 over all epochs
is kept apart as the "test oracle", the figure most MERC papers report.

Device placement happens here and nowhere else: the model (with its attached teacher) moves to the
execution's device once, each batch is collated on the CPU and moved over, and the selected weights
are kept on the CPU so that stored weights load anywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from benchmark.config import TrainConfig
from benchmark.data.collate import IGNORE_LABEL, Dialogue, collate_dialogues, dialogues_from_split
from benchmark.data.schema import MercDataset
from benchmark.execution import CPU, Execution
from benchmark.metrics import PredictionCollector
from benchmark.modeling import MERCModel
from benchmark.records import EpochLog, Predictions, SplitMetrics
from benchmark.seeding import seed_everything

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
    order_generator = seed_everything(config.seed, config.threads, execution.deterministic)
    model.to(execution.torch_device)
    splits = {s: dialogues_from_split(dataset.splits[s], dataset.meta.modalities) for s in dataset.splits}
    classes = dataset.meta.classes
    model.observe_training_labels(torch.cat([d.labels for d in splits["train"]]).to(execution.torch_device))
    optimizer = make_optimizer(model, config)
    curves: list[EpochLog] = []
    best: tuple[float, int, SplitMetrics, SplitMetrics, Predictions, dict] | None = None
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
        if best is None or validation.weighted_f1 > best[0]:
            state = {
                name: tensor.detach().to("cpu", copy=True) for name, tensor in model.state_dict().items()
            }
            best = (validation.weighted_f1, epoch, validation, test, predictions, state)
        elif config.patience and epoch - best[1] >= config.patience:
            break
    assert best is not None  # epochs >= 1
    _, best_epoch, validation, test, predictions, state = best
    return TrainingResult(best_epoch, validation, test, predictions, oracle[0], oracle[1], curves, state)


def evaluate(
    model: MERCModel,
    dialogues: list[Dialogue],
    batch_size: int,
    classes: tuple[str, ...],
    execution: Execution = CPU,
) -> tuple[SplitMetrics, Predictions]:
    model.eval()
    collector = PredictionCollector()
    with torch.no_grad():
        for start in range(0, len(dialogues), batch_size):
            batch = collate_dialogues(dialogues[start : start + batch_size])
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
    for start in range(0, len(order), config.batch_size):
        batch = collate_dialogues([dialogues[i] for i in order[start : start + config.batch_size]])
        batch = batch.to(execution.torch_device)
        with execution.autocast():
            output = model(batch)
            logits = output.logits.float()  # the loss in float32 whatever the matrix products used
            ce = F.cross_entropy(
                logits.flatten(0, 1),
                batch.labels.flatten(),
                ignore_index=IGNORE_LABEL,
                label_smoothing=output.label_smoothing,
            )
            loss = ce + sum(output.aux_losses.values(), torch.zeros((), device=ce.device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        for name, value in {"loss": loss, "ce": ce, **output.aux_losses}.items():
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
