"""From canonical splits to padded tensors: the only place that knows how dialogues become a batch."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import datasets
import torch
from torch.nn.utils.rnn import pad_sequence

IGNORE_LABEL = -100  # torch.nn.functional.cross_entropy's ignore_index: padding never counts


@dataclass(frozen=True)
class Dialogue:
    dialogue_id: str
    speakers: torch.Tensor  # [n] long
    labels: torch.Tensor  # [n] long
    features: dict[str, torch.Tensor]  # modality -> [n, dim] float32


@dataclass
class Batch:
    """B dialogues padded to the longest, T utterances. Padding: features 0, speakers 0, labels -100."""

    dialogue_ids: list[str]
    features: dict[str, torch.Tensor]  # modality -> [B, T, dim]
    speakers: torch.Tensor  # [B, T] long
    labels: torch.Tensor  # [B, T] long
    mask: torch.Tensor  # [B, T] bool, True on real utterances
    # Modalities removed at test time: absent from `features`, or zeros there for a model that cannot
    # run without their tensor. Nothing derived from them may reach the model (a teacher on them included).
    absent: frozenset[str] = frozenset()
    # The cross-entropy's class weights [n_classes] on training batches (None: unweighted), for the
    # cross-entropy terms a model computes itself as much as for the trainer's.
    class_weights: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> Batch:
        return dataclasses.replace(
            self,
            features={m: x.to(device) for m, x in self.features.items()},
            speakers=self.speakers.to(device),
            labels=self.labels.to(device),
            mask=self.mask.to(device),
            class_weights=None if self.class_weights is None else self.class_weights.to(device),
        )

    def present(self, modality: str) -> bool:
        """Whether the batch holds `modality`'s real features (not removed, not zeros in their place)."""
        return modality in self.features and modality not in self.absent

    @property
    def lengths(self) -> torch.Tensor:
        return self.mask.sum(dim=1)

    def select(self, rows: Sequence[int]) -> Batch:
        """The dialogues at `rows`, in that order, with their padding trimmed to the longest of them."""
        index = torch.as_tensor(rows, dtype=torch.long, device=self.mask.device)
        length = int(self.lengths[index].max())
        return dataclasses.replace(
            self,
            dialogue_ids=[self.dialogue_ids[i] for i in rows],
            features={m: x[index, :length] for m, x in self.features.items()},
            speakers=self.speakers[index, :length],
            labels=self.labels[index, :length],
            mask=self.mask[index, :length],
        )


def dialogues_from_split(split: datasets.Dataset, modalities: Sequence[str]) -> list[Dialogue]:
    """Decode an Arrow split once into tensors, so that epochs do not pay for Arrow decoding."""
    columns = split.with_format("numpy")[:]
    return [
        Dialogue(
            dialogue_id=str(columns["dialogue_id"][i]),
            speakers=torch.as_tensor(columns["speakers"][i], dtype=torch.long),
            labels=torch.as_tensor(columns["labels"][i], dtype=torch.long),
            features={
                m: torch.tensor(columns[m][i], dtype=torch.float32) for m in modalities
            },  # a copy: Arrow's buffers are read-only
        )
        for i in range(len(split))
    ]


def collate_dialogues(dialogues: Sequence[Dialogue], absent: frozenset[str] = frozenset()) -> Batch:
    """Pad a list of dialogues; one pad per tensor kind, no loop over utterances. `absent`: the
    modalities removed from them (`Batch.absent`)."""
    lengths = torch.tensor([len(d.labels) for d in dialogues])
    mask = torch.arange(int(lengths.max()))[None, :] < lengths[:, None]
    modalities = dialogues[0].features.keys()
    return Batch(
        dialogue_ids=[d.dialogue_id for d in dialogues],
        features={m: pad_sequence([d.features[m] for d in dialogues], batch_first=True) for m in modalities},
        speakers=pad_sequence([d.speakers for d in dialogues], batch_first=True),
        labels=pad_sequence([d.labels for d in dialogues], batch_first=True, padding_value=IGNORE_LABEL),
        mask=mask,
        absent=absent,
    )
