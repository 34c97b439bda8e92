"""MultiEMO (Shi and Huang, ACL 2023), as the paper and its authors' code (TaoShi1998/MultiEMO at
e96458b) define it: a linear projection and a DialogueRNN context encoder per modality, MultiAttn
(bidirectional multi-head cross-attention) fusion, a linear layer over the three fused streams, an MLP
classifier, and two auxiliary losses, Sample-Weighted Focal Contrastive (SWFC) and Soft-HGR.
Needs all three modalities. `python -m scripts.crosscheck --multiemo CLONE` compares it with the
authors' code.

Where the authors' code switches on the dataset, the same switch keys on the dataset family:
- DialogueRNN runs both directions on IEMOCAP and forward only on MELD (`bidirectional`);
- text gets a DialogueRNN on IEMOCAP only, MELD's text features are used as projected
  (`text_context`; "additional context modeling leads to improved model performances on IEMOCAP");
- the MLP's hidden layer is d on IEMOCAP, 2d on MELD (`mlp_hidden`);
- the loss weights and SWFC's parameters are those of the authors' training scripts (`AUTHORS_LOSS`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from baselines.common import require_modalities
from benchmark.data.collate import IGNORE_LABEL, Batch
from benchmark.data.schema import DatasetMeta
from benchmark.models.contract import MERCModel, ModelDims, ModelOutput, make_config, register_model
from benchmark.models.layers import ContextLayer, Dropout
from benchmark.models.search_space import FloatRange


@dataclass(frozen=True)
class AuthorsLoss:
    """One dataset's settings in the authors' training scripts (Train/TrainMultiEMO_*.sh)."""

    ce: float
    swfc: float
    hgr: float
    temperature: float  # SWFC's τ
    focus: float  # SWFC's γ
    sample_weight_power: float  # SWFC's α


AUTHORS_LOSS = {
    "iemocap": AuthorsLoss(ce=0.2, swfc=0.4, hgr=0.4, temperature=0.8, focus=2.4, sample_weight_power=1.1),
    "meld": AuthorsLoss(ce=0.4, swfc=0.3, hgr=0.3, temperature=1.4, focus=2.0, sample_weight_power=1.2),
}
# [choice] The FFN inside MultiAttn is as wide as the authors' ratio: hidden_dim 1024 at model_dim 256.
FFN_RATIO = 4


@dataclass(frozen=True)
class MultiEMOConfig(ModelDims):
    # [choice] `dropout` (the profile's) serves as both of the authors' rates, dropout_rate and
    # dropout_rec (0 and 0 in their scripts), as the profile's one rate serves every rival.
    bidirectional: bool
    text_context: bool
    mlp_hidden: int
    # [choice] The trainer's cross-entropy has weight 1, so each auxiliary loss is weighted by its
    # coefficient over the authors' cross-entropy coefficient: the same loss up to a constant factor,
    # to which Adam is invariant (up to its epsilon and weight decay).
    swfc_weight: float
    hgr_weight: float
    temperature: float
    focus: float
    sample_weight_power: float
    ffn_hidden: int


def swfc_class_weights(counts: torch.Tensor, power: float) -> torch.Tensor:
    """w_c = (N / N_c)^α, then divided by Σ_c w_c: rarer classes weigh more (N_c training utterances of
    class c, N all of them). [choice] A class absent from training weighs 0 (the authors' code would
    divide by zero); it never occurs as an anchor in training anyway."""
    counts = counts.double()
    present = counts > 0
    weights = torch.where(present, (counts.sum() / counts.clamp(min=1)) ** power, 0.0)
    return (weights / weights.sum()).float()


def sample_weighted_focal_contrastive(
    features: torch.Tensor,
    labels: torch.Tensor,
    class_weights: torch.Tensor,
    temperature: float,
    focus: float,
) -> torch.Tensor:
    """SWFC loss over the batch's N labelled utterances (features [N, d], labels [N]):

        z_i = h_i / ‖h_i‖,  p_ij = exp(z_i·z_j / τ) / Σ_{k≠i} exp(z_i·z_k / τ)   (j ≠ i)
        L = −(1/N) Σ_i w_{y_i} · (1/|P(i)|) Σ_{j∈P(i)} (1 − p_ij)^γ log p_ij,   P(i) = {j ≠ i: y_j = y_i}

    An anchor with no positive in the batch adds 0 but still counts in N, as in the authors' code.
    """
    z = F.normalize(features, dim=-1)
    n = z.shape[0]
    itself = torch.eye(n, dtype=torch.bool, device=z.device)
    log_p = (z @ z.T / temperature).masked_fill(itself, float("-inf")).log_softmax(dim=1)
    positive = (labels[:, None] == labels[None, :]) & ~itself
    # masked before the product, so the -inf of i == j never meets a zero (its gradient would be NaN)
    log_positive = log_p.masked_fill(~positive, 0.0)
    p_positive = log_p.exp().masked_fill(~positive, 0.0)
    per_anchor = (log_positive * (1 - p_positive) ** focus).sum(dim=1) / positive.sum(dim=1).clamp(min=1)
    return -(class_weights[labels] * per_anchor).sum() / n


def soft_hgr(streams: list[torch.Tensor]) -> torch.Tensor:
    """Soft-HGR loss over the fused streams (each [N, d], the same N labelled utterances):

        L = −(1/N) Σ_{pairs (f, g)} [ E_n[f_n · g_n] − tr(Σ_f Σ_g) / (2N) ]

    Σ_f the d × d covariance of f over the batch's utterances, as Soft-HGR (Wang et al., 2019) and the
    MultiEMO paper define it. [choice] The two extra 1/N scalings are the authors' code's (stated there
    as an empirical choice for stability). Their code computes `torch.cov(f)` on the [N, d] matrix,
    which torch reads as N variables: an N × N covariance across utterances, not the paper's; we keep
    the paper's (the cross-check page names this difference). Fewer than two utterances: 0.
    """
    n = streams[0].shape[0]
    if n < 2:
        return streams[0].new_zeros(())
    total = streams[0].new_zeros(())
    for f, g in combinations(streams, 2):
        mapping = (f * g).sum(dim=-1).mean()
        covariance = torch.trace(torch.cov(f.T) @ torch.cov(g.T)) / n
        total = total + mapping - covariance / 2
    return -total / n


class DialogueRNN(nn.Module):
    """One direction of DialogueRNN (Majumder et al., 2019) with the widths MultiEMO gives it (all d),
    no listener update and `simple` context attention, as the authors' code runs it. At utterance t
    of a dialogue, spoken by party s with input u_t:

        g_t = GRU_G([u_t; q_{s,t−1}], g_{t−1})                global state
        c_t = Σ_{k<t} softmax_k(w·g_k) g_k  (0 at t = 0)      attention over the past global states
        q_{s,t} = GRU_P([u_t; c_t], q_{s,t−1})                only the speaker's party state changes
        e_t = GRU_E(q_{s,t}, e_{t−1})                         the emotion state: the output

    with dropout on g_t, the party states and e_t, as in the authors' code. Parties are the
    dataset's speaker ids. A Python loop over utterances, like the original: a recurrence whose cell
    reads one row per dialogue of a party table cannot be one packed GRU call.
    """

    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.global_cell = nn.GRUCell(2 * width, width)
        self.party_cell = nn.GRUCell(2 * width, width)
        self.emotion_cell = nn.GRUCell(width, width)
        self.attention_score = nn.Linear(width, 1, bias=False)
        self.dropout = Dropout(dropout)

    def forward(self, inputs: torch.Tensor, speakers: torch.Tensor, parties: int) -> torch.Tensor:
        """inputs [B, T, d], speakers [B, T] -> emotion states [B, T, d]."""
        batch, length, width = inputs.shape
        rows = torch.arange(batch, device=inputs.device)
        party_states = inputs.new_zeros(batch, parties, width)
        global_state = emotion = inputs.new_zeros(batch, width)
        # The past global states [t, B, d] and their scores w·g_k [t, B, 1], grown by one row a step: a
        # stack of the states at every step would hand each state t gradients of its own in the backward.
        history = inputs.new_zeros(0, batch, width)
        history_scores = inputs.new_zeros(0, batch, 1)
        outputs = []
        for t in range(length):
            u, speaker = inputs[:, t], speakers[:, t]
            global_state = self.dropout(
                self.global_cell(torch.cat([u, party_states[rows, speaker]], dim=-1), global_state)
            )
            if t:
                context = (history_scores.softmax(dim=0) * history).sum(dim=0)
            else:
                context = torch.zeros_like(u)
            history = torch.cat([history, global_state[None]])
            history_scores = torch.cat([history_scores, self.attention_score(global_state)[None]])
            speaking = party_states[rows, speaker]
            spoken = self.party_dropout(
                self.party_cell(torch.cat([u, context], dim=-1), speaking), party_states.shape, rows, speaker
            )
            party_states = party_states.index_put((rows, speaker), spoken)
            emotion = self.dropout(self.emotion_cell(spoken, emotion))
            outputs.append(emotion)
        return torch.stack(outputs, dim=1)

    def party_dropout(
        self, spoken: torch.Tensor, table: torch.Size, rows: torch.Tensor, speaker: torch.Tensor
    ) -> torch.Tensor:
        """Dropout of the speakers' new states [B, d]. Only the speaker's party state changes, so the cell
        runs on the speakers' rows alone; the dropout draws are still those of the whole party table
        [B, parties, d] (the speakers' rows used), so the random stream, and every draw after, is the one
        the update of every party state drew."""
        dropout = self.dropout
        if not dropout.training or dropout.p == 0:
            return spoken
        keep = torch.rand(table, dtype=spoken.dtype, device=spoken.device).ge_(dropout.p).div_(1 - dropout.p)
        return spoken * keep[rows, speaker]


def reverse_dialogues(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Each dialogue's real utterances in reverse order ([B, T, ...]); padding stays where it is.
    Applying it twice gives `x` back."""
    lengths = mask.sum(dim=1, keepdim=True)
    steps = torch.arange(mask.shape[1], device=mask.device)[None, :]
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)
    return x.gather(1, index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x))


class DialogueContext(nn.Module):
    """The authors' BiModel: forward DialogueRNN, and with `bidirectional` a second one over each
    dialogue reversed, concatenated and projected back to d:

        bidirectional: h = ReLU(dropout(W [e→; e←]))        forward only: h = ReLU(dropout(e→))
    """

    def __init__(self, width: int, parties: int, bidirectional: bool, dropout: float) -> None:
        super().__init__()
        self.parties = parties
        self.forward_rnn = DialogueRNN(width, dropout)
        self.backward_rnn = DialogueRNN(width, dropout) if bidirectional else None
        self.merge = nn.Linear(2 * width, width) if bidirectional else None
        self.dropout = Dropout(dropout)

    def forward(self, x: torch.Tensor, speakers: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        emotions = self.forward_rnn(x, speakers, self.parties)
        if self.backward_rnn is not None:
            backward = self.backward_rnn(
                reverse_dialogues(x, mask), reverse_dialogues(speakers, mask), self.parties
            )
            emotions = self.merge(torch.cat([emotions, reverse_dialogues(backward, mask)], dim=-1))
        return torch.relu(self.dropout(emotions)) * mask[..., None]  # padded steps feed nothing on


class MultiAttnFeedForward(nn.Module):
    """MultiAttn's FFN, dropout(W2 ReLU(W1 x)), in `ContextLayer`'s (output, auxiliary loss) form."""

    def __init__(self, width: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, width), Dropout(dropout)
        )

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net(tokens), tokens.new_zeros(())


class MultiAttnLayer(nn.Module):
    """One MultiAttn layer for a query modality q and the two others a, b (the paper's bidirectional
    cross-attention: q attends to a, the result attends to b, then the FFN):

        x = LN(q + MHA(q, a, a));  x = LN(x + MHA(x, b, b));  out = LN(x + FFN(x))

    each sub-layer's output under dropout, no dropout on attention weights (as the authors' code).
    [choice] Padded utterances are masked out of the keys (the authors' attention reads them): a real
    utterance's output must not depend on which dialogues share its batch."""

    def __init__(self, width: int, heads: int, ffn_hidden: int, dropout: float) -> None:
        super().__init__()
        self.first = ContextLayer(width, heads, dropout, None, attention_dropout=0.0)
        ffn = MultiAttnFeedForward(width, ffn_hidden, dropout)
        self.second = ContextLayer(width, heads, dropout, ffn, attention_dropout=0.0)

    def forward(
        self, query: torch.Tensor, first: torch.Tensor, second: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        x, _ = self.first(query, mask, first)
        x, _ = self.second(x, mask, second)
        return x


class MultiEMO(MERCModel):
    def __init__(self, config: MultiEMOConfig, meta: DatasetMeta) -> None:
        super().__init__()
        self.config = config
        self.modalities = meta.modalities
        w = config.width
        self.projections = nn.ModuleDict({m: nn.Linear(meta.feature_dims[m], w) for m in self.modalities})
        with_context = [m for m in self.modalities if m != "text" or config.text_context]
        self.contexts = nn.ModuleDict(
            {
                m: DialogueContext(w, meta.n_speakers, config.bidirectional, config.dropout)
                for m in with_context
            }
        )
        self.multiattn = nn.ModuleDict(
            {
                m: nn.ModuleList(
                    MultiAttnLayer(w, config.heads, config.ffn_hidden, config.dropout)
                    for _ in range(config.layers)
                )
                for m in self.modalities
            }
        )
        self.fuse = nn.Linear(len(self.modalities) * w, w)
        self.classifier = nn.Sequential(
            nn.Linear(w, config.mlp_hidden), nn.ReLU(), nn.Linear(config.mlp_hidden, meta.n_classes)
        )
        self.logit_dropout = Dropout(config.dropout)  # the authors' MLP ends in dropout, on the logits
        # SWFC's class weights from the training split's counts (`observe_training_labels`); uniform
        # until then, and saved with the weights
        self.register_buffer("class_weights", torch.full((meta.n_classes,), 1.0 / meta.n_classes))

    def observe_training_labels(self, labels: torch.Tensor) -> None:
        counts = torch.bincount(labels[labels != IGNORE_LABEL], minlength=len(self.class_weights))
        self.class_weights.copy_(swfc_class_weights(counts, self.config.sample_weight_power))

    def forward(self, batch: Batch) -> ModelOutput:
        mask = batch.mask
        streams = {}
        for m in self.modalities:
            x = self.projections[m](batch.features[m])
            streams[m] = self.contexts[m](x, batch.speakers, mask) if m in self.contexts else x
        fused = []
        for m in self.modalities:
            first, second = (streams[n] for n in self.modalities if n != m)
            x = streams[m]
            for layer in self.multiattn[m]:
                x = layer(x, first, second, mask)
            fused.append(x)
        hidden = self.fuse(torch.cat(fused, dim=-1))
        logits = self.logit_dropout(self.classifier(hidden))
        return ModelOutput(logits, hidden, self._auxiliary_losses(batch, hidden, fused))

    def _auxiliary_losses(
        self, batch: Batch, hidden: torch.Tensor, fused: list[torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        if not self.training:  # both only shape training; the trainer never reads them in evaluation
            return {}
        c = self.config
        labelled = batch.labels != IGNORE_LABEL
        labels = batch.labels[labelled]
        swfc = sample_weighted_focal_contrastive(
            hidden[labelled], labels, self.class_weights, c.temperature, c.focus
        )
        return {
            "swfc": c.swfc_weight * swfc,
            "soft_hgr": c.hgr_weight * soft_hgr([f[labelled] for f in fused]),
        }


_AUTHORS = "the authors' per-dataset script values"
# [choice] the loss settings MultiEMO's scripts set per dataset and its paper leaves to the user, each range
# spanning both datasets' values (docs/model.md, "Search spaces")
SEARCH_SPACE = {
    "swfc_weight": FloatRange(
        0.1, 10.0, log=True, source=f"{_AUTHORS} 2 and 0.75 (over CE), a decade around"
    ),
    "hgr_weight": FloatRange(0.1, 10.0, log=True, source=f"{_AUTHORS} 2 and 0.75 (over CE), a decade around"),
    "temperature": FloatRange(0.2, 4.0, log=True, source=f"{_AUTHORS} 0.8 and 1.4, quartered and tripled"),
    "focus": FloatRange(0.0, 5.0, source=f"{_AUTHORS} 2.4 and 2.0; 0 is no focal term"),
    "sample_weight_power": FloatRange(0.0, 2.0, source=f"{_AUTHORS} 1.1 and 1.2; 0 weighs classes equally"),
}


@register_model(
    "multiemo",
    model=MultiEMO,
    description="MultiEMO: DialogueRNN contexts, bidirectional multi-head cross-attention, SWFC + Soft-HGR losses",
    search_space=SEARCH_SPACE,
)
def configure(meta: DatasetMeta, dims: ModelDims, overrides: Mapping[str, Any]) -> MultiEMOConfig:
    require_modalities(meta, "multiemo", 3)
    loss = AUTHORS_LOSS[meta.family]
    iemocap = meta.family == "iemocap"
    defaults = dataclasses.asdict(dims) | {
        "bidirectional": iemocap,
        "text_context": iemocap,
        "mlp_hidden": dims.width if iemocap else 2 * dims.width,
        "swfc_weight": loss.swfc / loss.ce,
        "hgr_weight": loss.hgr / loss.ce,
        "temperature": loss.temperature,
        "focus": loss.focus,
        "sample_weight_power": loss.sample_weight_power,
        "ffn_hidden": FFN_RATIO * dims.width,
    }
    return make_config(MultiEMOConfig, "multiemo", overrides, **defaults)
