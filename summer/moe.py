"""SDMoE, the Sparse Dynamic Mixture of Experts (docs/model.md, "SDMoE").

A router scores every real utterance against E experts, l = x W_g ([N, E]). Version 2's routing
("sigma-gumbel"): scores outside the band (mu - 2 sigma, mu + 2 sigma) are switched off, then a
Gumbel-Softmax over the surviving experts gives the mixing weights,

    w = softmax((l + g) / tau) over survivors,   g ~ Gumbel(0, 1) in training, g = 0 in evaluation.

Each expert is a BiGRU over the dialogue's utterance sequence (packed, so padding never enters the
recurrence), hidden d/2 per direction so that its output has width d. The experts stay E separate GRUs
(parameters, initialisation, checkpoints); for speed the SDMoE packs the dialogue once and, where the
device's table says it wins (`FUSION_LIMITS`), runs all E as one GRU whose recurrent weights are
block-diagonal (`fused_bigru`), and the modalities' SDMoEs of one layer share that pass as far as the
table allows (`run_context_blocks`).

The older readings stay reachable as configuration: routing "threshold" (smallest expert set whose
softmax mass reaches a threshold, at most `top_k`) and "topk" (a standard MoE: fixed top-k softmax), and
position-wise feed-forward experts ("ffn").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from benchmark.errors import BenchmarkError
from benchmark.models.layers import Dropout, FeedForward
from benchmark.models.search_space import IntRange

ROUTINGS = ("sigma-gumbel", "threshold", "topk")
EXPERT_KINDS = ("bigru", "ffn")


@dataclass(frozen=True, kw_only=True)
class MoEOptions:
    """The SDMoE options SUMMER and its teacher share; the defaults are version 2's readings."""

    experts: int = 4  # [choice] n = 4 experts
    expert: str = "bigru"  # [review] BiGRU experts; "ffn": the position-wise experts of version 1
    routing: str = "sigma-gumbel"  # [review] mu +- 2 sigma switch-off then Gumbel-Softmax
    band_sigmas: float = 2.0  # [review] the band's half-width in standard deviations
    gumbel_temperature: float = 1.0  # [choice] Gumbel-Softmax temperature 1
    top_k: int = 2  # "topk" routing's k, and the cap of "threshold" routing
    route_threshold: float = 0.5  # "threshold" routing's cumulative probability
    # [choice] the Switch-Transformer balance loss the paper does not mention, kept with its weight; 0 = off
    lambda_moe: float = 0.01

    def check_moe(self) -> None:
        if self.routing not in ROUTINGS:
            raise BenchmarkError(f"unknown routing {self.routing!r}; valid: {', '.join(ROUTINGS)}")
        if self.expert not in EXPERT_KINDS:
            raise BenchmarkError(f"unknown expert kind {self.expert!r}; valid: {', '.join(EXPERT_KINDS)}")


# [choice] what `tune` may try for n: the spec's n = 4 halved and doubled; a plain layer has no experts
EXPERTS_SETTING = IntRange(2, 8, source="n = 4 is a [choice]: halved and doubled",
                           applies=lambda config: config.use_sdmoe)  # fmt: skip


def sigma_band(scores: torch.Tensor, sigmas: float = 2.0) -> torch.Tensor:
    """[N, E] router scores -> [N, E] bool, the experts kept. [choice] mu and sigma over all real
    (utterance, expert) scores of the batch; each utterance always keeps its best-scoring expert."""
    mean, spread = scores.mean(), scores.std(unbiased=False)
    inside = (scores > mean - sigmas * spread) & (scores < mean + sigmas * spread)
    best = F.one_hot(scores.argmax(dim=-1), scores.shape[-1]).bool()
    return inside | best


def gumbel_weights(scores: torch.Tensor, kept: torch.Tensor, temperature: float, noisy: bool) -> torch.Tensor:
    """Softmax over the kept experts of (scores + Gumbel noise) / temperature; noise only when `noisy`."""
    logits = scores
    if noisy:
        logits = logits - torch.empty_like(scores).exponential_().log()  # -log(Exp(1)) ~ Gumbel(0, 1)
    return (logits / temperature).masked_fill(~kept, float("-inf")).softmax(dim=-1)


def threshold_routing(probabilities: torch.Tensor, threshold: float, k_max: int) -> torch.Tensor:
    """[N, E] probabilities -> [N, E] bool: the smallest set reaching `threshold`, at most k_max."""
    sorted_probabilities, order = probabilities.sort(dim=-1, descending=True)
    mass_before = sorted_probabilities.cumsum(dim=-1) - sorted_probabilities
    rank = torch.arange(probabilities.shape[-1], device=probabilities.device)
    keep_sorted = (mass_before < threshold) & (rank < k_max)
    return torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)


def top_k_routing(probabilities: torch.Tensor, k: int) -> torch.Tensor:
    top = probabilities.topk(min(k, probabilities.shape[-1]), dim=-1).indices
    return torch.zeros_like(probabilities, dtype=torch.bool).scatter(-1, top, True)


def balance_loss(probabilities: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """Switch-Transformer style: E * sum_e f_e * P_e, f_e the share of assignments to e and P_e the mean
    router probability; 1 when uniform."""
    experts = probabilities.shape[-1]
    assignment_share = kept.float().sum(0) / kept.float().sum()
    return experts * (assignment_share * probabilities.mean(0)).sum()


def scatter_real(packed: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[N, d] rows of the real utterances -> [B, T, d], padding zero, in the rows' dtype (bfloat16 under
    autocast, where the residual stream stays float32)."""
    return packed.new_zeros((*mask.shape, packed.shape[-1])).masked_scatter_(mask[..., None], packed)


class BiGRUExpert(nn.Module):
    """A bidirectional GRU over each dialogue's real utterances: [B, T, d] -> [B, T, d], padding zero."""

    def __init__(self, width: int) -> None:
        super().__init__()
        if width % 2:
            raise BenchmarkError(f"BiGRU experts need an even width (d/2 per direction), got {width}")
        self.gru = nn.GRU(width, width // 2, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        packing = DialoguePacking.of(mask)
        return scatter_real(packing.real(self.gru(packing.pack(x))[0].data), mask)


@dataclass(frozen=True)
class DialoguePacking:
    """Where each real utterance of a [B, T] batch sits in the time-major packed layout a GRU reads
    (`pack_padded_sequence`'s, dialogues sorted by length as it sorts them), worked out once from the
    mask on the CPU: packing is then one gather and unpacking to the real utterances another, where
    `pack_padded_sequence` and `pad_packed_sequence` copy batch size by batch size, in the backward too."""

    batch_sizes: torch.Tensor  # [steps] on the CPU, as PackedSequence keeps it
    sorted_indices: torch.Tensor  # [B]
    unsorted_indices: torch.Tensor  # [B]
    packed_rows: torch.Tensor  # [N]: the row of x.flatten(0, 1) each packed row holds
    real_rows: torch.Tensor  # [N]: the packed row of each real utterance, in mask order (x[mask])

    @classmethod
    def of(cls, mask: torch.Tensor) -> DialoguePacking:
        on_cpu = mask.cpu()  # packing needs the lengths on the CPU
        cpu, length = on_cpu.device, on_cpu.shape[1]
        lengths, sorted_indices = torch.sort(on_cpu.sum(dim=1), descending=True)  # as packing sorts
        real_sorted = torch.arange(length, device=cpu)[:, None] < lengths[None, :]  # [T, B]: time-major
        steps, ranks = real_sorted.nonzero(as_tuple=True)  # in packed order
        dialogues = sorted_indices[ranks]
        packed_row = torch.empty(on_cpu.shape, dtype=torch.long, device=cpu)
        packed_row[dialogues, steps] = torch.arange(len(steps), device=cpu)
        indices = [
            sorted_indices,
            torch.argsort(sorted_indices),
            dialogues * length + steps,
            packed_row[on_cpu],
        ]
        on_device = torch.cat(indices).to(mask.device).split([len(i) for i in indices])  # one copy back
        return cls(real_sorted.sum(dim=1)[: int(lengths[0])], *on_device)

    def pack(self, x: torch.Tensor) -> PackedSequence:
        """[B, T, ...] -> the real utterances packed, as `pack_padded_sequence` packs them."""
        data = x.flatten(0, 1).index_select(0, self.packed_rows)
        return PackedSequence(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def real(self, packed_data: torch.Tensor) -> torch.Tensor:
        """Packed rows [P, ...] -> [N, ...], the real utterances in mask order."""
        return packed_data.index_select(0, self.real_rows)


# When the experts run as one block-diagonal GRU, by device kind: the most hidden units per direction an
# expert may have (`max_hidden`) and one fused GRU may have (`max_fused_hidden`; None: no limit, so the
# SDMoEs of one layer share one pass). The block-diagonal GRU does E times the recurrent FLOPs of E
# separate GRUs, but in one call, so it wins where per-step overhead dominates and loses where the
# products do. Measured fused / apart time of one SDMoE step (4 experts, forward and backward, batch
# 16), by hidden per direction, with scripts/moe_speed.py, which prints this table for its device:
#   cpu (2 threads): h 32: 0.39, h 512: 3.53 (docs/model.md, "Speed"): fused up to h 64.
#   cuda (one H100, issue 21's measurement, not rerun here): 16 experts of h 512 as 4 GRUs of hidden
#   2048 (one per SDMoE) in 0.38x the time of 16 separate calls. [choice] So on CUDA every width up to
#   the paper's h 512 fuses, and no fused GRU exceeds the measured 2048 hidden units: at the paper
#   width each SDMoE runs its own pass, at the fast width (12 experts of h 32) the layer shares one.
FUSION_LIMITS: dict[str, tuple[int, int | None]] = {"cpu": (64, None), "cuda": (512, 2048)}


def fuses_experts(device_type: str, hidden: int) -> bool:
    """Whether BiGRU experts of `hidden` units per direction run fused on this kind of device."""
    return device_type in FUSION_LIMITS and hidden <= FUSION_LIMITS[device_type][0]


def fused_passes(sizes: Sequence[int], device_type: str) -> list[list[int]]:
    """Consecutive indices of SDMoEs (`sizes`: E * h each) grouped into fused passes of at most the
    device's `max_fused_hidden` units; an SDMoE too wide to share runs its own pass."""
    limit = FUSION_LIMITS[device_type][1]
    passes: list[list[int]] = []
    total = 0
    for index, size in enumerate(sizes):
        if passes and (limit is None or total + size <= limit):
            passes[-1].append(index)
            total += size
        else:
            passes.append([index])
            total = size
    return passes


def in_one_buffer(weights: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """The same weights as views, end to end in one contiguous buffer, in the order cuDNN lays out a
    GRU's flat weights (per direction: input, recurrent, input bias, recurrent bias): cuDNN then uses the
    buffer as it is instead of compacting the weights into a new one at every call. Differentiable."""
    flat = torch.cat([w.reshape(-1) for w in weights])
    return [
        chunk.view_as(w) for chunk, w in zip(flat.split([w.numel() for w in weights]), weights, strict=True)
    ]


def fused_bigru_weights(groups: Sequence[Sequence[nn.GRU]]) -> list[torch.Tensor]:
    """G groups of E one-layer BiGRUs each (input d, hidden h; group g reads slice g of a [*, G*d] input)
    -> the flat weights of one BiGRU with hidden G*E*h computing all of them: input projections
    block-diagonal over the groups, recurrent weights block-diagonal over every expert, gate by gate,
    so expert e reads its group's input and writes only its own slice [e*h, (e+1)*h) of the state.
    Each kind of weight is stacked once and laid on the block diagonal by one `diag_embed`: a handful of
    operators whatever G and E (a copy, so the values are exactly the experts')."""
    grus = [g for group in groups for g in group]
    n_groups, experts, hidden, gates = len(groups), len(groups[0]), grus[0].hidden_size, 3

    def stacked(name: str) -> torch.Tensor:  # [G*E, 3h, ...] -> [3, G*E, h, ...]
        weight = torch.stack([getattr(g, name) for g in grus])
        return weight.unflatten(1, (gates, hidden)).transpose(0, 1)

    weights = []
    for suffix in ("_l0", "_l0_reverse"):
        inputs = stacked("weight_ih" + suffix).unflatten(1, (n_groups, experts))  # [3, G, E, h, d]
        width = inputs.shape[-1]
        # out[k, g, e, i, g', j] = inputs[k, g, e, i, j] where g == g', else 0
        input_weights = torch.diag_embed(inputs.movedim(1, -1), dim1=1, dim2=4)
        # out[k, e, i, f, j] = recurrent[k, e, i, j] where e == f, else 0
        recurrent = torch.diag_embed(stacked("weight_hh" + suffix).movedim(1, -1), dim1=1, dim2=3)
        weights += [
            input_weights.reshape(gates * len(grus) * hidden, n_groups * width),
            recurrent.reshape(gates * len(grus) * hidden, len(grus) * hidden),
            stacked("bias_ih" + suffix).flatten(),  # [3, E, h] -> [3Eh]
            stacked("bias_hh" + suffix).flatten(),
        ]
    return weights


def fused_bigru(groups: Sequence[Sequence[nn.GRU]], packed: PackedSequence, training: bool) -> PackedSequence:
    """All the groups' BiGRU experts in one packed GRU call (`torch._VF.gru`, the kernel behind nn.GRU,
    given the fused weights) over the groups' inputs concatenated ([*, G*d]): -> packed [*, E, 2h] for
    the E experts of all groups in order, each its forward then backward half, equal to float rounding
    to running each GRU on its own input."""
    experts, hidden = sum(len(group) for group in groups), groups[0][0].hidden_size
    initial = packed.data.new_zeros(2, int(packed.batch_sizes[0]), experts * hidden)
    weights = fused_bigru_weights(groups)
    if packed.data.is_cuda:  # [choice] only where cuDNN reads it: the CPU path stays the one measured
        weights = in_one_buffer(weights)
    output, _ = torch._VF.gru(packed.data, packed.batch_sizes, initial, weights, True, 1, 0.0, training, True)
    per_expert = output.unflatten(-1, (2, experts, hidden)).transpose(-3, -2).flatten(-2)  # [*, E, 2h]
    return packed._replace(data=per_expert)


def separate_expert_outputs(grus: Sequence[nn.GRU], x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Each BiGRU expert on x in its own GRU call over one shared packing -> [N, E, d] on the real
    utterances: the path where fusing would cost more than it saves."""
    packing = DialoguePacking.of(mask)
    packed = packing.pack(x)
    return packing.real(torch.stack([gru(packed)[0].data for gru in grus], dim=1))


def fused_expert_outputs(
    groups: Sequence[Sequence[nn.GRU]], inputs: Sequence[torch.Tensor], mask: torch.Tensor, training: bool
) -> torch.Tensor:
    """Each group's BiGRU experts on its own [B, T, d] input, in one fused pass -> [N, E, d] for the E
    experts of all groups in order, on the real utterances."""
    packing = DialoguePacking.of(mask)
    return packing.real(fused_bigru(groups, packing.pack(torch.cat(list(inputs), dim=-1)), training).data)


class FeedForwardExpert(nn.Module):
    """Version 1's position-wise expert (d -> 2d -> d), on the real utterances only."""

    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.ffn = FeedForward(width, 2 * width, dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return scatter_real(self.ffn(x[mask])[0], mask)


def make_expert(kind: str, width: int, dropout: float) -> nn.Module:
    return BiGRUExpert(width) if kind == "bigru" else FeedForwardExpert(width, dropout)


class SparseDynamicMoE(nn.Module):
    """[B, T, d] and mask -> ([B, T, d] mixture of experts, balance loss). Every expert reads the whole
    dialogue (a recurrent expert cannot skip utterances); the routing weights mix their outputs."""

    def __init__(self, width: int, dropout: float, options: MoEOptions) -> None:
        super().__init__()
        options.check_moe()
        self.options = options
        self.router = nn.Linear(width, options.experts)
        self.experts = nn.ModuleList(
            make_expert(options.expert, width, dropout) for _ in range(options.experts)
        )

    @property
    def fusable(self) -> bool:
        """Whether its experts run as one block-diagonal GRU: BiGRU experts at a width where that wins
        on the device they are on."""
        if self.options.expert != "bigru":
            return False
        return fuses_experts(self.router.weight.device.type, self.experts[0].gru.hidden_size)

    @property
    def fused_hidden(self) -> int:
        """The hidden units per direction its experts take in a fused GRU."""
        return len(self.experts) * self.experts[0].gru.hidden_size

    def route(self, scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[N, E] router scores -> (mixing weights [N, E], kept [N, E] bool)."""
        o = self.options
        if o.routing == "sigma-gumbel":
            kept = sigma_band(scores, o.band_sigmas)
            return gumbel_weights(scores, kept, o.gumbel_temperature, self.training), kept
        probabilities = scores.softmax(dim=-1)
        if o.routing == "topk":
            kept = top_k_routing(probabilities, o.top_k)
        else:
            kept = threshold_routing(probabilities, o.route_threshold, o.top_k)
        weights = probabilities * kept
        return weights / weights.sum(dim=-1, keepdim=True), kept

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, expert_outputs: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`expert_outputs`: the [N, E, d] outputs of this SDMoE's experts on x, when a fused pass over
        several SDMoEs (`run_context_blocks`) has computed them already."""
        scores = self.router(x[mask])
        weights, kept = self.route(scores)
        outputs = self.expert_outputs(x, mask) if expert_outputs is None else expert_outputs  # [N, E, d]
        mixed = (weights[:, None, :] @ outputs).squeeze(1)
        balance = balance_loss(scores.softmax(dim=-1), kept)
        return scatter_real(mixed, mask), balance

    def expert_outputs(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """[B, T, d] -> [N, E, d], every expert on the real utterances. BiGRU experts share one packing
        and one unpacking; at small widths they also run as one fused GRU."""
        if self.options.expert != "bigru":
            return torch.stack([expert(x, mask)[mask] for expert in self.experts], dim=1)
        grus = [expert.gru for expert in self.experts]
        if self.fusable:
            return fused_expert_outputs([grus], [x], mask, self.training)
        return separate_expert_outputs(grus, x, mask)


class SingleExpert(nn.Module):
    """One expert of the same kind and width, no router: what "w/o SDMoE" puts in the SDMoE's place."""

    fusable = False  # one expert: nothing to share a recurrent pass with

    def __init__(self, width: int, dropout: float, options: MoEOptions) -> None:
        super().__init__()
        options.check_moe()
        self.expert = make_expert(options.expert, width, dropout)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, expert_outputs: None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.expert(x, mask), x.new_zeros(())


class ContextBlock(nn.Module):
    """[choice] a residual around the mixture: LayerNorm(x + dropout(mixer(x))), padding kept zero."""

    def __init__(self, width: int, dropout: float, mixer: nn.Module) -> None:
        super().__init__()
        self.mixer = mixer
        self.norm = nn.LayerNorm(width)
        self.dropout = Dropout(dropout)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, expert_outputs: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mixed, balance = self.mixer(x, mask, expert_outputs)
        return self.norm(x + self.dropout(mixed)) * mask[..., None], balance


def run_context_blocks(
    blocks: Sequence[ContextBlock], inputs: Sequence[torch.Tensor], mask: torch.Tensor
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """[block(x, mask) for each block and its input], the blocks being independent (one per modality):
    the BiGRU experts of the fusable SDMoEs among them run in as few fused GRU calls as the device's
    `max_fused_hidden` allows, one recurrent pass over the dialogues instead of one per SDMoE."""
    fusable = [i for i, block in enumerate(blocks) if block.mixer.fusable]
    precomputed: dict[int, torch.Tensor] = {}
    if fusable:
        device_type = inputs[fusable[0]].device.type
        for members in fused_passes([blocks[i].mixer.fused_hidden for i in fusable], device_type):
            if len(members) < 2:
                continue  # alone, the SDMoE fuses its own experts
            chosen = [fusable[m] for m in members]
            groups = [[expert.gru for expert in blocks[i].mixer.experts] for i in chosen]
            outputs = fused_expert_outputs(
                groups, [inputs[i] for i in chosen], mask, blocks[chosen[0]].training
            )
            for i, chunk in zip(chosen, outputs.split([len(group) for group in groups], dim=1), strict=True):
                precomputed[i] = chunk
    return [
        block(x, mask, precomputed.get(i)) for i, (block, x) in enumerate(zip(blocks, inputs, strict=True))
    ]


def context_block(width: int, dropout: float, options: MoEOptions, sparse: bool = True) -> ContextBlock:
    mixer = SparseDynamicMoE if sparse else SingleExpert
    return ContextBlock(width, dropout, mixer(width, dropout, options))
