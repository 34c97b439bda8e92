"""Fine-tuned text features, made the way published MERC systems make theirs: the sentence encoder is
first trained as an utterance-emotion classifier on the **training split** (COSMIC fine-tunes RoBERTa
this way; EmoBERTa, used by MultiEMO, adds the previous turns with their speakers' names), then every
split is encoded with the fine-tuned weights.

For utterance i with label y_i (C classes, n_c training utterances of class c, N in all):

    h_i = mean over the tokens of the encoder's last hidden states      (the text feature, dim 384 for MiniLM)
    p_i = softmax(W dropout(h_i) + b)
    L   = - sum_i w_{y_i} log p_i[y_i] / sum_i w_{y_i},   w_c = N / (C n_c)   (class-weighted cross-entropy;
                                                                             w_c = 1 with class_weighting none)

The validation split only picks the epoch whose weights are kept (its weighted-F1, early stopping);
the test split is encoded and classified, never scored here: the caller scores the classifier's test
predictions as a context-free reference. Labels of validation and test never reach a gradient.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from torch import nn

from benchmark.data.class_weighting import (
    CLASS_WEIGHTINGS,
    INVERSE_FREQUENCY,
    balanced_inverse_train_frequency,
)
from benchmark.early_stopping import EarlyStopping
from benchmark.errors import BenchmarkError, split_assignment
from benchmark.metrics import weighted_f1
from benchmark.seeding import MOST_THREADS, SEED_MAX, seed_everything


@dataclass(frozen=True)
class FineTuneSettings:
    """Every setting that changes the fine-tuned weights; all of them are part of the import's cache key."""

    epochs: int = 3
    # [choice] Early stopping: training ends after `patience` epochs without a better validation
    # weighted-F1, and the best epoch's weights are kept.
    patience: int = 1
    # [choice] Only the top `layers` transformer layers (and the classifier) are trained; the embeddings and
    # the layers below stay as published and are run once per utterance, not once per epoch. On two CPU
    # cores a full fine-tune of MiniLM costs about 0.3-0.6 s per training utterance and epoch, so IEMOCAP's
    # 5,163 would take most of an hour per epoch; `layers=6` trains all of MiniLM where a GPU allows it.
    layers: int = 2
    # [choice] Tokens per input; 99% of IEMOCAP's utterances are at most 62 MiniLM tokens long.
    max_length: int = 64
    # [choice] Previous turns given as context (EmoBERTa's "Speaker N: text" pairs). The default 0 keeps
    # the features, and the classifier that scores them, context-free: the dialogue models add context
    # themselves, and the classifier stays the context-free reference they must beat. Context also
    # multiplies the tokens per input by about k+1, which two cores pay for.
    context: int = 0
    batch_size: int = 32
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    dropout: float = 0.1
    seed: int = 0
    threads: int = 2  # torch threads while fine-tuning, pinned like a run's
    # [choice] The loss weights classes as the dataset's training protocol does (`data --fine-tune` fills in
    # the dataset's TrainConfig.class_weighting: inverse frequency on IEMOCAP, none on MELD, as SDT trains),
    # with training-split frequencies only. Weighting MELD's seven classes by inverse frequency trades the
    # neutral majority for the rare classes and lowers the weighted-F1 the features are judged by.
    class_weighting: str = INVERSE_FREQUENCY

    def __post_init__(self) -> None:
        minimum = {"epochs": 1, "patience": 1, "layers": 1, "max_length": 8, "batch_size": 1, "threads": 1}
        for name, least in minimum.items():
            if getattr(self, name) < least:
                raise BenchmarkError(
                    f"fine-tune setting {name}={getattr(self, name)}: must be at least {least}"
                )
        if self.class_weighting not in CLASS_WEIGHTINGS:
            raise BenchmarkError(
                f"fine-tune setting class_weighting={self.class_weighting}: give one of {', '.join(CLASS_WEIGHTINGS)}"
            )
        if self.context < 0:
            raise BenchmarkError(f"--context {self.context}: give 0 or more previous turns")
        if self.threads > MOST_THREADS:
            raise BenchmarkError(f"fine-tune setting threads={self.threads}: give at most {MOST_THREADS}")
        if not 0 <= self.seed <= SEED_MAX:
            raise BenchmarkError(f"fine-tune setting seed={self.seed}: give a seed from 0 to {SEED_MAX}")
        if (
            not 0 < self.learning_rate < 1
            or not 0 <= self.dropout < 1
            or not 0 <= self.weight_decay < math.inf
        ):
            raise BenchmarkError(
                f"fine-tune settings learning_rate={self.learning_rate}, dropout={self.dropout}, "
                f"weight_decay={self.weight_decay}: need 0 < learning_rate < 1, 0 <= dropout < 1, weight_decay >= 0"
            )

    @classmethod
    def parse(cls, text: str, defaults: dict | None = None, **given: int) -> FineTuneSettings:
        """`--fine-tune KEY=VALUE,...` (plus settings with their own flags, such as `context`); `defaults`
        replace the class's defaults for keys the text does not set."""
        fields = {f.name: f.type for f in dataclasses.fields(cls)}
        values: dict[str, float | int | str] = dict(defaults or {}) | dict(given)
        settable = [k for k in fields if k not in given]
        seen: set[str] = set()
        for item in filter(None, (part.strip() for part in text.split(","))):
            key, value = split_assignment(
                item, "--fine-tune", f"KEY=VALUE with KEY one of {', '.join(settable)}", settable
            )
            if key in seen:
                raise BenchmarkError(f"--fine-tune {key}: given twice: give each setting once")
            seen.add(key)
            try:
                values[key] = {"float": float, "int": int, "str": str}[fields[key]](value)
            except ValueError:
                raise BenchmarkError(f"--fine-tune {item!r}: {key} takes a {fields[key]}") from None
        return cls(**values)

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(self).items())


@dataclass(frozen=True)
class Turns:
    """One split's utterances in dialogue order: sentences and speaker ids per dialogue."""

    sentences: list[list[str]]
    speakers: list[list[int]]

    def inputs(self, context: int) -> list[tuple[str, str | None]]:
        """(text, None) per utterance without context; with it, (the `context` previous turns, the utterance),
        each turn as "Speaker N: text" (the first turn of a dialogue has an empty context)."""
        pairs = []
        for sentences, speakers in zip(self.sentences, self.speakers, strict=True):
            said = [f"Speaker {s}: {t}" for s, t in zip(speakers, sentences, strict=True)]
            for i, sentence in enumerate(sentences):
                before = " ".join(said[max(0, i - context) : i])
                pairs.append((before, said[i]) if context else (sentence, None))
        return pairs


@dataclass
class FineTuned:
    """What fine-tuning made: per-split features [utterances, dim] in dialogue order, the classifier's
    test predictions, and the per-epoch record (training loss, validation weighted-F1)."""

    features: dict[str, np.ndarray]
    test_predictions: np.ndarray
    train_loss: list[float] = field(default_factory=list)
    validation_f1: list[float] = field(default_factory=list)

    @property
    def best_epoch(self) -> int:
        return int(np.argmax(self.validation_f1)) + 1


def fine_tune(
    encoder: nn.Module,
    tokenizer,
    turns: dict[str, Turns],
    train_labels: np.ndarray,
    validation_labels: np.ndarray,
    n_classes: int,
    settings: FineTuneSettings,
) -> FineTuned:
    """Fine-tune a copy of `encoder` (a BERT-style transformers model: embeddings, encoder.layer) on the
    train split's labels, keep the epoch with the best validation weighted-F1, encode every split of
    `turns`. Test labels are not an argument: nothing here can read them."""
    layers = encoder.encoder.layer
    if settings.layers > len(layers):
        raise BenchmarkError(
            f"fine-tune setting layers={settings.layers}: the encoder has {len(layers)} transformer layers"
        )
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    generator = seed_everything(settings.seed, settings.threads)
    try:
        frozen = len(layers) - settings.layers
        inputs = {split: split_turns.inputs(settings.context) for split, split_turns in turns.items()}
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, transient=True) as progress:
            task = progress.add_task(
                f"text through the {frozen} frozen layers", total=sum(len(x) for x in inputs.values())
            )
            batches = {
                split: _frozen_batches(
                    encoder, tokenizer, split_inputs, frozen, settings, lambda n: progress.advance(task, n)
                )
                for split, split_inputs in inputs.items()
            }
            head = _Classifier(
                copy.deepcopy(layers[frozen:]), encoder.config, train_labels, n_classes, settings
            )
            return _train(head, batches, train_labels, validation_labels, settings, generator, progress)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


@dataclass(frozen=True)
class _Batch:
    rows: np.ndarray  # which utterances of the split, in its order
    hidden: torch.Tensor  # [B, T, H] the output of the frozen layers
    mask: torch.Tensor  # [B, T] 1 for tokens, 0 for padding


def _frozen_batches(
    encoder, tokenizer, inputs, frozen: int, settings: FineTuneSettings, advance: Callable[[int], None]
) -> list[_Batch]:
    """Length-sorted batches (little padding) run once through the embeddings and the frozen layers."""
    first = [a for a, _ in inputs]
    second = [b for _, b in inputs] if any(b is not None for _, b in inputs) else None
    tokens = tokenizer(first, second, truncation=True, max_length=settings.max_length)
    order = np.argsort([len(ids) for ids in tokens["input_ids"]], kind="stable")
    batches = []
    encoder.eval()
    with torch.no_grad():
        for start in range(0, len(order), settings.batch_size):
            rows = order[start : start + settings.batch_size]
            padded = tokenizer.pad(
                {k: [tokens[k][i] for i in rows] for k in tokens.keys()}, return_tensors="pt"
            )
            hidden = encoder.embeddings(
                input_ids=padded["input_ids"], token_type_ids=padded.get("token_type_ids")
            )
            hidden = _run_layers(
                encoder.encoder.layer[:frozen], hidden, padded["attention_mask"], encoder.config
            )
            batches.append(_Batch(rows, hidden, padded["attention_mask"]))
            advance(len(rows))
    return batches


def _run_layers(
    layers: Sequence[nn.Module], hidden: torch.Tensor, mask: torch.Tensor, config
) -> torch.Tensor:
    """The transformer layers on `hidden` as the full model runs them (the same attention mask)."""
    from transformers.masking_utils import create_bidirectional_mask  # here: importing transformers is slow

    attention = create_bidirectional_mask(config=config, inputs_embeds=hidden, attention_mask=mask)
    for layer in layers:
        hidden = layer(hidden, attention)
    return hidden


class _Classifier(nn.Module):
    """The trained top layers, masked mean pooling (the feature) and a linear classifier over it."""

    def __init__(self, top: nn.ModuleList, config, train_labels: np.ndarray, n_classes: int, settings):
        super().__init__()
        self.top = top
        self.encoder_config = config
        self.dropout = nn.Dropout(settings.dropout)
        self.out = nn.Linear(config.hidden_size, n_classes)
        weights = balanced_inverse_train_frequency(train_labels, n_classes, settings.class_weighting)
        self.register_buffer("class_weights", torch.tensor(weights, dtype=torch.float32))

    def pooled(self, batch: _Batch) -> torch.Tensor:
        hidden = _run_layers(self.top, batch.hidden, batch.mask, self.encoder_config)
        mask = batch.mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1)

    def logits(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.out(self.dropout(pooled))


def _train(head, batches, train_labels, validation_labels, settings, generator, progress) -> FineTuned:
    optimizer = torch.optim.AdamW(
        head.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    result = FineTuned(features={}, test_predictions=np.empty(0, dtype=np.int64))
    stopping = EarlyStopping(settings.patience)
    train = batches["train"]
    task = progress.add_task("fine-tuning the text encoder", total=settings.epochs * len(train))
    for epoch in range(1, settings.epochs + 1):
        progress.update(task, description=f"fine-tuning the text encoder, epoch {epoch}/{settings.epochs}")
        head.train()
        total = 0.0
        for index in torch.randperm(len(train), generator=generator).tolist():
            batch = train[index]
            target = torch.as_tensor(train_labels[batch.rows], dtype=torch.long)
            loss = nn.functional.cross_entropy(
                head.logits(head.pooled(batch)), target, weight=head.class_weights
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch.rows)
            progress.advance(task)
        result.train_loss.append(total / len(train_labels))
        predictions = _predict(head, batches["validation"])[1]
        score = 100 * weighted_f1(validation_labels, predictions, head.out.out_features)
        result.validation_f1.append(score)
        line = f"fine-tuning epoch {epoch}: train loss {result.train_loss[-1]:.4f}, validation weighted-F1 {score:.2f}"
        progress.console.print(line, highlight=False)
        if not stopping.improved(epoch, score, head) and stopping.should_stop(epoch):
            progress.update(task, completed=settings.epochs * len(train))
            break
    head.load_state_dict(stopping.best_state)
    for split, split_batches in batches.items():
        result.features[split], predicted = _predict(head, split_batches)
        if split == "test":
            result.test_predictions = predicted
    return result


def _predict(head: _Classifier, batches: list[_Batch]) -> tuple[np.ndarray, np.ndarray]:
    """Features [utterances, dim] and predicted classes, in the split's utterance order."""
    head.eval()
    size = sum(len(b.rows) for b in batches)
    features = np.zeros((size, head.out.in_features), dtype=np.float32)
    with torch.no_grad():
        for batch in batches:
            features[batch.rows] = head.pooled(batch).numpy()
        logits = head.logits(torch.from_numpy(features))
    return features, logits.argmax(-1).numpy()
