"""SUMMER's claims, each judged on the runs of one dataset and profile: records in, claim rows out.

A pure functional core: no files, no registry. The caller passes the records and the names that should
have been run (rivals, SUMMER's ablations), so a claim whose rows are missing says which command runs them;
SUMMER's own names are those summer/ declares (`SUBJECT`).

Every claim is a statistic that is positive when the claim holds (an F1 margin, a drop in confusion, in
percentage points), estimated on the test set as it is and bootstrapped over test dialogues with the same
resample applied to every model and seed (paired), pooled over the seeds all its models share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from benchmark.experiment.catalog import SUBJECT, SUMMER
from benchmark.metrics import per_class_f1_from_confusions, weighted_f1_from_confusions
from benchmark.report.published_numbers import SummerClaims
from benchmark.report.stats import CONFIDENCE, interval, resample_confusions
from benchmark.store.records import FULL_MODEL, Predictions, RunRecord

TEXT_TEACHER = SUBJECT.teacher
IKD = SUBJECT.without_distillation

SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE = "supported", "not supported", "inconclusive"
NOT_RUN, NOT_APPLICABLE = "not run", "not applicable"
VERDICT_RULE = (
    f"Each claim is a difference in percentage points that is positive when the claim holds, with its "
    f"{CONFIDENCE:.0%} paired bootstrap interval over test dialogues, pooled over the seeds its models share. "
    f"**{SUPPORTED}**: the whole interval lies above 0 and every row the claim needs was run; "
    f"**{NOT_SUPPORTED}**: the whole interval lies below 0; **{INCONCLUSIVE}**: otherwise (the interval "
    f"contains 0, or it lies above 0 while some needed rows were not run); **{NOT_RUN}**: the runs are "
    "missing (the command that makes them is given). A verdict resting on runs whose validation was still "
    "improving when training stopped says **provisional: still improving** and names them."
)


@dataclass(frozen=True)
class ClaimRow:
    claim: str  # short stable id, for diffs of claims.json
    statement: str
    data: str  # dataset, real or synthetic (and the public release it came from), profile, seeds
    synthetic: bool
    evidence: str
    estimate: float | None  # percentage points, positive in the claim's favour
    low: float | None  # the CONFIDENCE interval of `estimate`
    high: float | None
    verdict: str  # one of SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE, NOT_RUN, NOT_APPLICABLE
    command: str | None = None  # what runs the missing rows
    # the runs the estimate rests on whose validation was still improving when training stopped
    # ("summer seed 0"): the verdict is provisional
    still_improving: tuple[str, ...] = ()
    test_split_exposure: str | None = None  # which features may have seen the test split, if any

    @property
    def verdict_cell(self) -> str:
        """The verdict as the report prints it: a synthetic verdict is never a reproduction, one on runs
        stopped while improving is provisional, one on features that may have seen the test split says so."""
        judged = self.verdict + (f": run `{self.command}`" if self.command else "")
        judged += " (synthetic data, not a reproduction)" if self.synthetic else ""
        if self.still_improving:
            judged += f"; provisional: still improving ({', '.join(self.still_improving)})"
        return judged + (f"; {self.test_split_exposure}" if self.test_split_exposure else "")

    @property
    def interval_cell(self) -> str:
        if self.estimate is None:
            return "—"
        return f"{self.estimate:+.2f} [{self.low:+.2f}, {self.high:+.2f}]"

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ClaimsSummary:
    """A report's claims.json: its claim rows and what they were judged on, which the index of every
    report reads back (benchmark.stored.read_typed)."""

    dataset: str
    profile: str
    runs: int
    synthetic: bool
    confidence: float
    resamples: int
    bootstrap_seed: int
    rule: str  # VERDICT_RULE as it was when the report was written
    claims: list[ClaimRow]

    def to_json(self) -> dict:
        return asdict(self)


def decide(low: float, high: float, complete: bool = True) -> str:
    """The verdict of VERDICT_RULE from an interval; `complete`: every row the claim needs was run."""
    if high < 0:
        return NOT_SUPPORTED
    if low > 0 and complete:
        return SUPPORTED
    return INCONCLUSIVE


@dataclass(frozen=True)
class _Runs:
    """The records of one dataset and profile, as the claims read them."""

    dataset: str
    profile: str
    family: str
    classes: tuple[str, ...]
    synthetic: bool
    variants: dict[str, dict[int, Predictions]]  # "summer", "tfn", "summer-no-ikd" -> seed -> predictions
    weighted_f1: dict[str, float]  # variant -> mean test weighted-F1 over seeds (percent)
    release: str | None = None  # the named public release the data (and its features) came from
    still_improving: frozenset[tuple[str, int]] = frozenset()  # (variant, seed) of runs still improving
    test_split_exposure: str | None = None

    def data(self, seeds: Sequence[int]) -> str:
        kind = "synthetic" if self.synthetic else "real"
        if self.release:
            kind += f", from the {self.release}"
        ran = f", seeds {','.join(map(str, seeds))}" if seeds else ""
        return f"{self.dataset} ({kind}), {self.profile}{ran}"

    def run_command(self, models: Sequence[str]) -> str:
        chosen = " ".join(f"--model {m}" for m in models)
        return f"python -m benchmark run {chosen} --dataset {self.dataset} --profile {self.profile}"

    def ablate_command(self, ablations: Sequence[str]) -> str:
        if len(ablations) == 1:
            return f"python -m benchmark ablate --drop {ablations[0]} --dataset {self.dataset} --profile {self.profile}"
        return self.run_command([SUMMER])  # trains full SUMMER and every registered ablation


def _runs(records: Sequence[RunRecord]) -> _Runs:
    first = records[0]
    variants: dict[str, dict[int, Predictions]] = {}
    scores: dict[str, list[float]] = {}
    for record in records:
        variants.setdefault(record.key.variant, {})[record.key.seed] = record.predictions
        scores.setdefault(record.key.variant, []).append(100 * record.test.weighted_f1)
    return _Runs(
        first.key.dataset,
        first.key.profile,
        first.data.family,
        tuple(first.data.classes),
        first.data.synthetic,
        variants,
        {name: float(np.mean(values)) for name, values in scores.items()},
        first.data.release,
        frozenset((r.key.variant, r.key.seed) for r in records if r.convergence.still_improving),
        "; ".join(
            f"{modality} features may have seen the test split ({exposure.extractor})"
            for modality, exposure in first.data.test_split_exposure.items()
        )
        or None,
    )


def ablation_variant(ablation: str) -> str:
    return f"{SUMMER}-no-{ablation}" if ablation != FULL_MODEL else SUMMER


Statistic = Callable[[np.ndarray, int], np.ndarray]  # confusions [N, M, S, C*C], classes -> [N] points


def _measure(runs: _Runs, models: Sequence[str], statistic: Statistic, resamples: int, seed: int):
    """(estimate, low, high, pooled confusions, the runs among them still improving) of `statistic` over
    `models` (in that order), or None when they share no seed."""
    try:
        pooled = resample_confusions(
            {m: runs.variants[m] for m in models}, len(runs.classes), resamples, seed
        )
    except ValueError:
        return None
    estimate = float(statistic(pooled.observed, len(runs.classes))[0])
    low, high = interval(statistic(pooled.resampled, len(runs.classes)))
    unconverged = tuple(
        f"{m} seed {s}" for m in models for s in pooled.seeds if (m, s) in runs.still_improving
    )
    return estimate, low, high, pooled, unconverged


def _weighted_f1(confusions: np.ndarray, n_classes: int) -> np.ndarray:
    """[N, M, S, K] -> [N, M] percent, mean over seeds."""
    return 100 * weighted_f1_from_confusions(confusions, n_classes).mean(-1)


def _first_minus_best_of_rest(confusions: np.ndarray, n_classes: int) -> np.ndarray:
    """Model 0's weighted-F1 minus the best of the others', per resample: > 0 when model 0 beats all."""
    scores = _weighted_f1(confusions, n_classes)
    return scores[:, 0] - scores[:, 1:].max(axis=1)


def _best_of_rest_minus_first(confusions: np.ndarray, n_classes: int) -> np.ndarray:
    """> 0 when model 0 (an ablation) scores below every other model (the other ablations)."""
    scores = _weighted_f1(confusions, n_classes)
    return scores[:, 1:].min(axis=1) - scores[:, 0]


def _row(runs: _Runs, claim: str, statement: str, seeds: Sequence[int] = (), **fields) -> ClaimRow:
    defaults = {"estimate": None, "low": None, "high": None, "test_split_exposure": runs.test_split_exposure}
    return ClaimRow(claim, statement, runs.data(seeds), runs.synthetic, **(defaults | fields))


def _missing(runs: _Runs, claim: str, statement: str, what: str, command: str) -> ClaimRow:
    return _row(runs, claim, statement, evidence=f"not run: {what}", verdict=NOT_RUN, command=command)


def _measured(
    runs: _Runs,
    claim: str,
    statement: str,
    measured: tuple,
    evidence: str,
    missing: Sequence[str] = (),
    command: str | None = None,
) -> ClaimRow:
    """The row of a measured claim: its interval and verdict; rows still `missing` (to be run by
    `command`) keep the verdict from "supported"."""
    estimate, low, high, pooled, unconverged = measured
    if missing:
        evidence += f"; not run: {', '.join(missing)}"
    return _row(
        runs,
        claim,
        statement,
        pooled.seeds,
        evidence=evidence,
        estimate=estimate,
        low=low,
        high=high,
        verdict=decide(low, high, complete=not missing),
        command=command if missing else None,
        still_improving=unconverged,
    )


def _beats_every_rival(
    runs: _Runs, rivals: Sequence[str], relayed_gain: float | None, resamples: int, seed: int
) -> ClaimRow:
    # the paper's relayed gain is quoted on the family it was reported for, and only there
    relayed = "" if relayed_gain is None else f" (relayed: {relayed_gain:+.2f} on {runs.family.upper()})"
    claim, statement = ("beats-every-rival", f"SUMMER beats every rival on weighted-F1{relayed}")
    ran = [r for r in rivals if r in runs.variants]
    missing = [r for r in rivals if r not in runs.variants]
    if SUMMER not in runs.variants or not ran:
        return _missing(runs, claim, statement, "SUMMER and its rivals", runs.run_command([SUMMER, *missing]))
    ran.sort(key=lambda r: -runs.weighted_f1[r])
    measured = _measure(runs, [SUMMER, *ran], _first_minus_best_of_rest, resamples, seed)
    if measured is None:
        return _missing(
            runs, claim, statement, "no seed shared by SUMMER and every rival", runs.run_command(ran)
        )
    evidence = (
        f"SUMMER {runs.weighted_f1[SUMMER]:.2f} vs the best of {len(ran)} rivals, {ran[0]} "
        f"{runs.weighted_f1[ran[0]]:.2f}: SUMMER − best rival"
    )
    return _measured(runs, claim, statement, measured, evidence, missing, runs.run_command(missing))


def _best_rival(runs: _Runs, rivals: Sequence[str]) -> str | None:
    ran = [r for r in rivals if r in runs.variants]
    return max(ran, key=lambda r: runs.weighted_f1[r]) if ran else None


def _minority_gains(
    runs: _Runs, rivals: Sequence[str], minority: Sequence[str], resamples: int, seed: int
) -> ClaimRow:
    claim = "largest-gains-on-minority-classes"
    statement = f"SUMMER's gains over the best rival are largest on minority classes ({', '.join(minority)})"
    best = _best_rival(runs, rivals)
    if SUMMER not in runs.variants or best is None:
        return _missing(runs, claim, statement, "SUMMER and its rivals", runs.run_command([SUMMER, *rivals]))
    chosen = [runs.classes.index(c) for c in minority]
    others = [i for i in range(len(runs.classes)) if i not in chosen]

    def gain_gap(confusions: np.ndarray, n_classes: int) -> np.ndarray:
        gains = 100 * per_class_f1_from_confusions(confusions, n_classes).mean(-2)  # [N, M, C]
        gain = gains[:, 0] - gains[:, 1]
        return gain[:, chosen].mean(-1) - gain[:, others].mean(-1)

    measured = _measure(runs, [SUMMER, best], gain_gap, resamples, seed)
    if measured is None:
        return _missing(
            runs, claim, statement, f"no seed shared by SUMMER and {best}", runs.run_command([best])
        )
    pooled = measured[3]
    per_class = 100 * per_class_f1_from_confusions(pooled.observed[0], len(runs.classes)).mean(-2)  # [M, C]
    gain = per_class[0] - per_class[1]
    support = pooled.observed[0, 0].reshape(len(pooled.seeds), len(runs.classes), -1).sum((0, 2))
    share = 100 * support / support.sum()
    named = "; ".join(f"{runs.classes[i]} ({share[i]:.1f}% of test) ΔF1 {gain[i]:+.2f}" for i in chosen)
    evidence = (
        f"vs best rival {best}: {named}; other classes mean ΔF1 {gain[others].mean():+.2f}; "
        "minority gain − other classes' gain"
    )
    return _measured(runs, claim, statement, measured, evidence)


def _pair_confusion(confusions: np.ndarray, pairs: Sequence[tuple[int, int]], n_classes: int) -> np.ndarray:
    """[N, M, S, K] -> [N, M, P]: share (%) of a pair's utterances predicted as the pair's other class."""
    matrix = confusions.reshape(*confusions.shape[:-1], n_classes, n_classes).sum(-3)  # pooled over seeds
    rates = []
    for i, j in pairs:
        crossed = matrix[..., i, j] + matrix[..., j, i]
        support = matrix[..., i, :].sum(-1) + matrix[..., j, :].sum(-1)
        rates.append(100 * np.divide(crossed, support, out=np.zeros_like(crossed), where=support > 0))
    return np.stack(rates, axis=-1)


def _less_confusion(
    runs: _Runs, rivals: Sequence[str], pairs: Sequence[tuple[str, str]], resamples: int, seed: int
) -> ClaimRow:
    claim = "less-confusion-of-similar-emotions"
    statement = "SUMMER confuses semantically similar emotions less than the best rival"
    if not pairs:
        return _row(
            runs,
            claim,
            statement,
            evidence=f"the claim names IEMOCAP pairs only, none of {runs.family}",
            verdict=NOT_APPLICABLE,
        )
    statement += f" ({', '.join(f'{a}↔{b}' for a, b in pairs)})"
    best = _best_rival(runs, rivals)
    if SUMMER not in runs.variants or best is None:
        return _missing(runs, claim, statement, "SUMMER and its rivals", runs.run_command([SUMMER, *rivals]))
    index = [(runs.classes.index(a), runs.classes.index(b)) for a, b in pairs]

    def confusion_drop(confusions: np.ndarray, n_classes: int) -> np.ndarray:
        rates = _pair_confusion(confusions, index, n_classes)
        return (rates[:, 1] - rates[:, 0]).mean(-1)

    measured = _measure(runs, [SUMMER, best], confusion_drop, resamples, seed)
    if measured is None:
        return _missing(
            runs, claim, statement, f"no seed shared by SUMMER and {best}", runs.run_command([best])
        )
    pooled = measured[3]
    rates = _pair_confusion(pooled.observed, index, len(runs.classes))[0]  # [M, P]
    named = "; ".join(f"{a}↔{b} {rates[0, p]:.1f}% vs {rates[1, p]:.1f}%" for p, (a, b) in enumerate(pairs))
    evidence = (
        f"share of the pair's utterances predicted as the other, SUMMER vs {best}: {named}; rival − SUMMER"
    )
    return _measured(runs, claim, statement, measured, evidence)


def _ikd_costs_most(runs: _Runs, ablations: Sequence[str], resamples: int, seed: int) -> ClaimRow:
    claim = "removing-ikd-costs-most"
    statement = "Removing IKD (`ikd`) costs the most of all ablation rows (paper, table 4)"
    ikd = ablation_variant(IKD)
    others = [a for a in ablations if a != IKD and ablation_variant(a) in runs.variants]
    missing = [a for a in ablations if ablation_variant(a) not in runs.variants]
    if SUMMER not in runs.variants or ikd not in runs.variants or not others:
        return _missing(
            runs, claim, statement, "full SUMMER, w/o IKD and another ablation", runs.ablate_command(missing)
        )
    models = [ikd, *(ablation_variant(a) for a in others)]
    measured = _measure(runs, models, _best_of_rest_minus_first, resamples, seed)
    if measured is None:
        return _missing(
            runs, claim, statement, "no seed shared by the ablations", runs.ablate_command(list(ablations))
        )
    costs = {a: runs.weighted_f1[SUMMER] - runs.weighted_f1[ablation_variant(a)] for a in (IKD, *others)}
    ranked = sorted(costs, key=lambda a: -costs[a])
    evidence = "cost (SUMMER − row): " + ", ".join(f"{a} {costs[a]:+.2f}" for a in ranked)
    evidence += "; the next-costliest row − the ikd row"
    return _measured(runs, claim, statement, measured, evidence, missing, runs.ablate_command(missing))


def _teacher_beats_rivals(runs: _Runs, rivals: Sequence[str], resamples: int, seed: int) -> ClaimRow:
    claim = "text-teacher-beats-other-rivals"
    statement = "The text teacher alone beats the other rivals (paper, section 4.4, relayed)"
    others = [r for r in rivals if r != TEXT_TEACHER]
    ran = sorted((r for r in others if r in runs.variants), key=lambda r: -runs.weighted_f1[r])
    missing = [r for r in (TEXT_TEACHER, *others) if r not in runs.variants]
    if TEXT_TEACHER not in runs.variants or not ran:
        return _missing(runs, claim, statement, "the text teacher and the rivals", runs.run_command(missing))
    measured = _measure(runs, [TEXT_TEACHER, *ran], _first_minus_best_of_rest, resamples, seed)
    if measured is None:
        return _missing(runs, claim, statement, "no seed shared by the rivals", runs.run_command(ran))
    evidence = (
        f"{TEXT_TEACHER} {runs.weighted_f1[TEXT_TEACHER]:.2f} vs the best other rival, {ran[0]} "
        f"{runs.weighted_f1[ran[0]]:.2f}: teacher − best other"
    )
    return _measured(runs, claim, statement, measured, evidence, missing, runs.run_command(missing))


def _distillation_helps(runs: _Runs, resamples: int, seed: int) -> ClaimRow:
    claim = "distillation-helps"
    statement = "Distillation from the unimodal teacher helps the multimodal student (SUMMER vs `ikd`)"
    ikd = ablation_variant(IKD)
    if SUMMER not in runs.variants or ikd not in runs.variants:
        return _missing(runs, claim, statement, "full SUMMER and w/o IKD", runs.ablate_command([IKD]))
    measured = _measure(runs, [SUMMER, ikd], _first_minus_best_of_rest, resamples, seed)
    if measured is None:
        return _missing(runs, claim, statement, "no seed shared", runs.ablate_command([IKD]))
    evidence = (
        f"SUMMER {runs.weighted_f1[SUMMER]:.2f} vs w/o IKD {runs.weighted_f1[ikd]:.2f}: SUMMER − w/o IKD"
    )
    return _measured(runs, claim, statement, measured, evidence)


def claim_rows(
    records: Sequence[RunRecord],
    rivals: Sequence[str],
    ablations: Sequence[str],
    summer: SummerClaims,
    resamples: int,
    seed: int,
) -> list[ClaimRow]:
    """One row per claim from the records of ONE dataset and profile. `rivals`: every registered model
    but SUMMER; `ablations`: SUMMER's registered ablation names (what should have been run); `summer`:
    what the paper's claims name (`PublishedNumbers.summer_claims`)."""
    runs = _runs(records)
    return [
        _beats_every_rival(runs, rivals, summer.weighted_f1_gains.get(runs.family), resamples, seed),
        _minority_gains(runs, rivals, summer.minority_classes.get(runs.family, ()), resamples, seed),
        _less_confusion(runs, rivals, summer.similar_pairs.get(runs.family, ()), resamples, seed),
        _ikd_costs_most(runs, ablations, resamples, seed),
        _teacher_beats_rivals(runs, rivals, resamples, seed),
        _distillation_helps(runs, resamples, seed),
    ]


def claims_table(rows: Sequence[ClaimRow]) -> list[dict[str, str]]:
    """The rows as the Markdown tables print them (one column per reader's question)."""
    return [
        {
            "claim": row.statement,
            "data": row.data,
            "evidence": row.evidence,
            f"Δ points [{CONFIDENCE:.0%} interval]": row.interval_cell,
            "verdict": row.verdict_cell,
        }
        for row in rows
    ]
