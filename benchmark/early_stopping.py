"""Early stopping on a validation score, the one rule both training loops follow: the trainer's
(`benchmark.training.loop`) and the text encoder's fine-tune (`benchmark.data.fine_tune`, a part of the
data layer, which is why the rule lives below both).

After epoch e with validation score s_e, the best epoch is b = the first e with s_e > s_{e'} for every
e' < e; training stops once e - b >= patience (patience 0: never), and the weights of epoch b are kept.
"""

from __future__ import annotations

import torch
from torch import nn


class EarlyStopping:
    """Tracks the best validation score and a CPU copy of the weights it was reached with."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best_score: float | None = None
        self.best_epoch = 0
        self.best_state: dict[str, torch.Tensor] = {}

    def improved(self, epoch: int, score: float, model: nn.Module) -> bool:
        """Record epoch `epoch`'s `score`; keep `model`'s weights when it beats every earlier epoch (a tie
        keeps the earlier epoch)."""
        if self.best_score is not None and not score > self.best_score:
            return False
        self.best_score, self.best_epoch = score, epoch
        # copies on the CPU, so that the kept weights load on any device and later steps cannot change them
        self.best_state = {
            name: tensor.detach().to("cpu", copy=True) for name, tensor in model.state_dict().items()
        }
        return True

    def should_stop(self, epoch: int) -> bool:
        """Whether `patience` epochs up to `epoch` have passed without a better score."""
        return bool(self.patience) and epoch - self.best_epoch >= self.patience
