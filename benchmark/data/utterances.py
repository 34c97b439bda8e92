"""Per-utterance tables into canonical dialogues: the official MELD CSV release, utterance-level IEMOCAP
copies on the hub (`AbstractTTS/IEMOCAP` layout) and any table a user made (one row per utterance).

A table arrives as `datasets` splits (the csv/parquet/json builders, `load_from_disk` or the hub), is
grouped into dialogues in turn order, its labels matched **by name** to the family's class list (integer
labels only with the order stated), and its speakers numbered by first appearance within each dialogue.
Text stays as sentences (column `sentences`) for the feature extractors; an audio column is turned into
openSMILE features here, per utterance.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path

import datasets
import numpy as np

from benchmark.data.features import AudioExtractor, progress_bar
from benchmark.data.pickles import VALIDATION_CARVE_SEED, carve_validation
from benchmark.data.schema import CLASS_NAMES, MAX_SPEAKERS, SPLITS, MercDataset
from benchmark.data.validate import build_splits, imported_dataset
from benchmark.errors import BenchmarkError

# Split names tables use for ours; anything else in a split column is an error, not a silent drop.
SPLIT_ALIASES = {"train": "train", "validation": "validation", "valid": "validation", "val": "validation",
                 "dev": "validation", "test": "test"}  # fmt: skip
# Spellings of the class names in the releases (IEMOCAP's annotation files abbreviate them).
LABEL_ALIASES = {"hap": "happy", "happiness": "happy", "sadness": "sadness", "neu": "neutral", "ang": "angry",
                 "anger": "anger", "exc": "excited", "fru": "frustrated", "sur": "surprise", "joy": "joy"}  # fmt: skip
IEMOCAP_ALIASES = {"anger": "angry", "happiness": "happy", "sadness": "sad"}


@dataclass(frozen=True)
class UtteranceColumns:
    """Which column holds what, for tables whose names differ (`--columns label=emotion,...`).
    `turn` orders utterances within a dialogue (row order when the table has no such column); `split`
    is needed only when the table is not already split; an empty name drops an optional column."""

    dialogue: str = "dialogue_id"
    turn: str = "turn"
    speaker: str = "speaker"
    text: str = "text"
    label: str = "label"
    split: str = "split"
    audio: str = "audio"

    @classmethod
    def parse(cls, assignments: Sequence[str]) -> UtteranceColumns:
        """From `ROLE=COLUMN` items (comma-separated or repeated)."""
        valid = [f.name for f in fields(cls)]
        chosen = {}
        for item in (part for text in assignments for part in text.split(",") if part.strip()):
            role, sign, column = (x.strip() for x in item.partition("="))
            if not sign or role not in valid:
                raise BenchmarkError(
                    f"--columns {item!r}: expected ROLE=COLUMN with ROLE one of {', '.join(valid)}"
                )
            if role in chosen:
                raise BenchmarkError(f"--columns {role}: given twice: name one column for each role")
            chosen[role] = column
        return replace(cls(), **chosen)


@dataclass(frozen=True)
class TableOptions:
    columns: UtteranceColumns = UtteranceColumns()
    label_order: tuple[str, ...] | None = None  # names of integer labels 0, 1, ... in the table's order
    drop_labels: tuple[str, ...] = ()  # label names to drop (with their utterances), counted in the notes
    audio: AudioExtractor = AudioExtractor()


@dataclass(frozen=True)
class Utterance:
    split: str  # ours: train, validation or test
    table: str  # the split of the table it was read from, to fetch its audio by `row`
    dialogue: str
    turn: tuple
    speaker: str
    text: str | None
    label: int
    row: int  # index in its split's table, to fetch audio


def is_utterance_table(columns: Sequence[str], options: TableOptions) -> bool:
    """Per-utterance rather than canonical per-dialogue (which has `speakers` and `labels` sequences)."""
    return "labels" not in columns and (options.columns.label in columns or _is_iemocap_layout(columns))


def from_table(
    splits: Mapping[str, datasets.Dataset], source: str, kind: str, name: str, family: str,
    fingerprint: str, options: TableOptions,
) -> MercDataset:  # fmt: skip
    """`splits`: the table's own splits (train/validation/test, or one table with a split column, or an
    IEMOCAP copy in one table)."""
    notes: list[str] = []
    columns = options.columns
    first = next(iter(splits.values()))
    if _is_iemocap_layout(first.column_names):
        utterances, audio_columns = _iemocap_utterances(splits, source, family, options, notes)
    else:
        utterances = _table_utterances(splits, source, family, options, notes)
        audio_columns = {s: t for s, t in splits.items() if columns.audio and columns.audio in t.column_names}
    text_present = all(u.text is not None for u in utterances)
    dialogues: dict[str, list[Utterance]] = {}
    for utterance in utterances:
        dialogues.setdefault(utterance.dialogue, []).append(utterance)
    for dialogue, turns in dialogues.items():
        _check_one_split(source, dialogue, turns)
        turns.sort(key=lambda u: u.turn)
        repeated = next((a.turn for a, b in zip(turns, turns[1:], strict=False) if a.turn == b.turn), None)
        if repeated is not None:
            raise BenchmarkError(
                f"{source}: dialogue {dialogue!r} has turn {repeated[0]!r} twice in the {turns[0].split} split: "
                "each utterance needs its own turn (or name the turn column with --columns turn=COLUMN)"
            )
    split_ids: dict[str, list[str]] = {split: [] for split in SPLITS}
    for dialogue, turns in dialogues.items():
        split_ids[turns[0].split].append(dialogue)
    if not split_ids["validation"] and split_ids["train"]:
        split_ids["train"], split_ids["validation"] = carve_validation(split_ids["train"])
        notes.append(
            f"no validation split: carved {len(split_ids['validation'])} of the training dialogues "
            f"(seed {VALIDATION_CARVE_SEED}): {', '.join(split_ids['validation'])}"
        )
    if not text_present and not audio_columns:
        raise BenchmarkError(
            f"{source}: the table has neither text nor audio, so nothing to learn from: name the text column "
            "with --columns text=COLUMN or the audio column with --columns audio=COLUMN"
        )
    features = {}
    if audio_columns:
        features["audio"] = _audio_features(dialogues, audio_columns, columns.audio, source, options.audio)
        notes.append(f"audio: {options.audio.describe()}")
    built, dims = build_splits(
        source,
        split_ids,
        {d: _speaker_roles(turns) for d, turns in dialogues.items()},
        {d: [u.label for u in turns] for d, turns in dialogues.items()},
        features,
        len(CLASS_NAMES[family]),
        sentences={d: [u.text for u in turns] for d, turns in dialogues.items()} if text_present else None,
        max_speakers=MAX_SPEAKERS.get(family),
    )
    notes.append("speakers numbered by first appearance within each dialogue")
    counts = ", ".join(
        f"{split} {len(split_ids[split])} dialogues / {sum(len(dialogues[d]) for d in split_ids[split])} utterances"
        for split in SPLITS
    )
    notes.append(f"read {counts}")
    return imported_dataset(
        built,
        name=name,
        family=family,
        feature_dims=dims,
        source=source,
        source_kind=kind,
        fingerprint=fingerprint,
        notes=notes,
        lineage={"audio": options.audio.describe()} if audio_columns else {},
    )


def meld_csv_files(folder) -> dict[str, str] | None:
    """The official MELD release's three CSVs in `folder`, by our split names; None if it is not one."""
    names = {"train": "train_sent_emo.csv", "validation": "dev_sent_emo.csv", "test": "test_sent_emo.csv"}
    if not (folder / names["train"]).exists():
        return None
    missing = [n for n in names.values() if not (folder / n).exists()]
    if missing:
        raise BenchmarkError(
            f"{folder}: the MELD release has train_sent_emo.csv but not {', '.join(missing)}: "
            "pass the folder holding all three CSVs"
        )
    return {split: str(folder / n) for split, n in names.items()}


MELD_COLUMNS = UtteranceColumns(
    dialogue="Dialogue_ID",
    turn="Utterance_ID",
    speaker="Speaker",
    text="Utterance",
    label="Emotion",
    split="",
)


def _table_utterances(
    splits: Mapping[str, datasets.Dataset], source: str, family: str, options: TableOptions, notes: list[str]
) -> list[Utterance]:
    columns = options.columns
    split_from_column = set(splits) - set(SPLITS) or not all(s in splits for s in SPLITS)
    # text is required unless dropped by name (`--columns text=`): a missing column must not silently
    # become a dataset without its text modality
    required = [columns.dialogue, columns.speaker, columns.label] + ([columns.text] if columns.text else [])
    if split_from_column:
        required.append(columns.split)
    to_label = _label_mapper(source, family, options, notes, [t[columns.label] for t in splits.values()])
    utterances = []
    for table_split, table in splits.items():
        for column in required:
            if not column or column not in table.column_names:
                role = next(f.name for f in fields(columns) if getattr(columns, f.name) == column)
                drop = ", or import without text with --columns text=" if role == "text" else ""
                raise BenchmarkError(
                    f"{source}: the {table_split} table has no column {column!r} for the {role} "
                    f"(columns: {', '.join(table.column_names)}): name it with --columns {role}=COLUMN{drop}"
                )
        present = [columns.turn] if columns.turn and columns.turn in table.column_names else []
        rows = table.select_columns(required + present).to_dict()
        for row in range(len(table)):
            label = to_label(rows[columns.label][row])
            if label is None:
                continue
            split = _split_of(source, rows[columns.split][row] if split_from_column else table_split, row)
            dialogue = rows[columns.dialogue][row]
            speaker = rows[columns.speaker][row]
            if dialogue is None or speaker is None or str(speaker).strip() == "":
                what = "dialogue id" if dialogue is None else "speaker"
                raise BenchmarkError(
                    f"{source}: row {row} of the {table_split} table has no {what}: fill it or drop the row"
                )
            where = f"row {row} of the {table_split} table"
            turn = _turn_number(source, where, rows[columns.turn][row]) if present else row
            # Dialogue ids restart in each file of a split release (MELD): the split keeps them apart.
            dialogue_id = f"{split}_{dialogue}" if not split_from_column else str(dialogue)
            text = _text_of(source, where, rows[columns.text][row]) if columns.text else None
            utterances.append(
                Utterance(split, table_split, dialogue_id, (turn,), str(speaker), text, label, row)
            )
    return utterances


def _turn_number(source: str, where: str, value) -> int:
    """A turn as a whole number: turns compared as strings would order 0, 1, 10, 11, 2, ..."""
    text = str(value).strip() if value is not None else ""
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not np.isfinite(number) or number != int(number):
        raise BenchmarkError(
            f"{source}: {where} has turn {value!r}, not a whole number: fix it (turns order the utterances "
            "of a dialogue), or keep the row order with --columns turn="
        )
    return int(number)


def _text_of(source: str, where: str, value) -> str:
    """One utterance's transcript: an empty, blank or missing (NaN) cell is an error, never a reason to
    drop the whole text modality."""
    if not isinstance(value, str) or not value.strip():
        raise BenchmarkError(
            f"{source}: {where} has no text ({value!r}): fill it or drop the row, or import without text "
            "with --columns text="
        )
    return value


def _check_one_split(source: str, dialogue: str, turns: Sequence[Utterance]) -> None:
    first = turns[0]
    other = next((u for u in turns if u.split != first.split), None)
    if other is not None:
        raise BenchmarkError(
            f"{source}: dialogue {dialogue!r} has rows in {first.split} (row {first.row} of the "
            f"{first.table} table) and in {other.split} (row {other.row} of the {other.table} table): a "
            "dialogue belongs to one split; fix the split column or give the dialogues their own ids"
        )


IEMOCAP_FILE = re.compile(r"^(?P<dialogue>Ses(?P<session>\d\d)[FM]_.+)_(?P<speaker>[FM])(?P<number>\d+)$")
IEMOCAP_OTHER_LABELS = ("surprise", "fear", "disgust", "other", "contempt", "xxx", "unknown")


def _is_iemocap_layout(columns: Sequence[str]) -> bool:
    return {"file", "transcription", "major_emotion"} <= set(columns)


def _iemocap_utterances(
    splits: Mapping[str, datasets.Dataset], source: str, family: str, options: TableOptions, notes: list[str]
) -> tuple[list[Utterance], dict[str, datasets.Dataset]]:
    """The AbstractTTS/IEMOCAP layout: one table, `file` = Ses01F_impro01_F000 (dialogue, speaker,
    the speaker's utterance number), `transcription`, `major_emotion`. Session 5 is the test split and
    the validation split is carved from sessions 1-4."""
    if family != "iemocap":
        raise BenchmarkError(
            f"{source}: this is an IEMOCAP table (file names Ses01F_...): use --dataset iemocap"
        )
    labels = [t["major_emotion"] for t in splits.values()]
    to_label = _label_mapper(source, family, options, notes, labels, also_dropped=IEMOCAP_OTHER_LABELS)
    utterances = []
    for table_split, table in splits.items():
        rows = table.select_columns(["file", "transcription", "major_emotion"]).to_dict()
        for row, file in enumerate(rows["file"]):
            label = to_label(rows["major_emotion"][row])
            if label is None:
                continue
            match = IEMOCAP_FILE.match(str(file))
            if match is None:
                raise BenchmarkError(
                    f"{source}: file name {file!r} (row {row} of {table_split}) is not an IEMOCAP utterance id "
                    "like Ses01F_impro01_F000: fix the file column"
                )
            split = "test" if match["session"] == "05" else "train"
            # [choice] IEMOCAP numbers each speaker's utterances on their own; without start times the
            # dialogue order is taken as the utterance numbers interleaved, the table's row order breaking ties.
            turn = (int(match["number"]), row)
            text = _text_of(source, f"row {row} of the {table_split} table", rows["transcription"][row])
            utterances.append(
                Utterance(split, table_split, match["dialogue"], turn, match["speaker"], text, label, row)
            )
    notes.append("IEMOCAP file names: session 5 is the test split; turn order from the utterance numbers")
    audio = {
        s: t for s, t in splits.items() if options.columns.audio and options.columns.audio in t.column_names
    }
    return utterances, audio


def _label_mapper(
    source: str,
    family: str,
    options: TableOptions,
    notes: list[str],
    label_columns: list,
    also_dropped: Sequence[str] = (),
) -> Callable[[object], int | None]:
    """Label value -> class index, or None for a dropped label (counted in `notes`). Names are matched
    case-insensitively to the class list; unknown names are an error that lists them all. Each name of
    `--drop-labels` must drop something: a class name, or a name the table does not hold, is an error."""
    classes = CLASS_NAMES[family]
    aliases = LABEL_ALIASES | (IEMOCAP_ALIASES if family == "iemocap" else {})
    drop = {d.lower() for d in (*options.drop_labels, *also_dropped)}
    values = [_label_value(v) for column in label_columns for v in column]
    if options.label_order is not None:
        order = [_class_name(str(n), classes, aliases) for n in options.label_order]
        unknown_names = sorted({n for n, c in zip(options.label_order, order, strict=True) if c is None})
        if unknown_names:
            raise BenchmarkError(
                f"--label-order names {', '.join(unknown_names)} are not {family} classes ({', '.join(classes)})"
            )
    names = {v for v in values if v is not None and not isinstance(v, (int, np.integer))}
    _check_drop_labels(source, family, options.drop_labels, names, classes, aliases)
    if options.label_order is None and any(isinstance(v, (int, np.integer)) for v in values):
        raise BenchmarkError(
            f"{source}: labels are integers, whose class order the table does not state: pass "
            f"--label-order NAME,NAME,... (the class of label 0, 1, ...), or store label names"
        )
    unknown = sorted(
        {
            str(v)
            for v in names
            if _class_name(str(v), classes, aliases) is None and str(v).lower() not in drop
        }
    )
    if unknown:
        raise BenchmarkError(
            f"{source}: label names {', '.join(unknown)} are not {family} classes ({', '.join(classes)}): "
            "rename them, or drop their utterances with --drop-labels " + ",".join(unknown)
        )

    def to_label(value) -> int | None:
        value = _label_value(value)
        if value is None:
            raise BenchmarkError(f"{source}: an utterance has no label: fill it or drop the row")
        if isinstance(value, (int, np.integer)):
            if not 0 <= value < len(options.label_order):
                raise BenchmarkError(
                    f"{source}: label {value} is outside the {len(options.label_order)} names of --label-order"
                )
            return classes.index(order[int(value)])
        name = _class_name(str(value), classes, aliases)
        return None if name is None else classes.index(name)

    dropped = Counter(str(v) for v in values if v in names and _class_name(str(v), classes, aliases) is None)
    if dropped:
        notes.append(
            f"dropped {sum(dropped.values())} utterances outside the {len(classes)} classes: "
            + ", ".join(f"{n} {c}" for n, c in sorted(dropped.items()))
        )
    return to_label


def _check_drop_labels(
    source: str, family: str, drop_labels: Sequence[str], names: set, classes: Sequence[str], aliases
) -> None:
    held = {str(n).lower() for n in names}
    for name in drop_labels:
        if _class_name(name, classes, aliases) is not None:
            raise BenchmarkError(
                f"--drop-labels {name}: {name!r} is one of the {family} classes ({', '.join(classes)}), which "
                "are kept: --drop-labels drops labels outside them; leave it out"
            )
        if name.lower() not in held:
            outside = sorted({str(n) for n in names if _class_name(str(n), classes, aliases) is None})
            raise BenchmarkError(
                f"{source}: --drop-labels {name}: the table has no label {name!r} (its labels outside the "
                f"{family} classes: {', '.join(outside) or 'none'}): check the spelling, or leave it out"
            )


def _label_value(value):
    """A float label as a table stores integers beside a missing value (3.0 beside NaN): the integer,
    and NaN as missing."""
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else int(value) if float(value).is_integer() else value
    return value


def _class_name(value: str, classes: Sequence[str], aliases: Mapping[str, str]) -> str | None:
    name = value.strip().lower()
    name = aliases.get(name, name)
    return name if name in classes else None


def _split_of(source: str, value, row: int) -> str:
    split = SPLIT_ALIASES.get(str(value).strip().lower())
    if split is None:
        raise BenchmarkError(
            f"{source}: row {row} is in split {value!r}, which is none of train, validation (dev), test: "
            "fix the split column so no dialogue is left out"
        )
    return split


def _speaker_roles(turns: Sequence[Utterance]) -> list[int]:
    roles: dict[str, int] = {}
    return [roles.setdefault(u.speaker, len(roles)) for u in turns]


def _audio_features(
    dialogues: Mapping[str, list[Utterance]],
    tables: Mapping[str, datasets.Dataset],
    column: str,
    source: str,
    extractor: AudioExtractor,
) -> dict[str, np.ndarray]:
    """openSMILE features per utterance, read from the audio column without `datasets`' decoder: a
    `datasets.Audio` column (bytes or paths) or a column of file paths, relative ones taken from the
    source's folder."""
    import soundfile

    total = sum(len(t) for t in dialogues.values())
    audio = {split: _audio_column(table, column, source) for split, table in tables.items()}
    out = {}
    with progress_bar("openSMILE", total) as advance:
        for dialogue, turns in dialogues.items():
            waves = []
            for u in turns:
                payload = audio[u.table](u.row)
                if payload is None:
                    raise BenchmarkError(
                        f"{source}: row {u.row} of the {u.table} table has no audio: fill it or drop the row"
                    )
                try:
                    signal, rate = soundfile.read(payload, dtype="float32", always_2d=True)
                except Exception as err:
                    what = payload if isinstance(payload, str) else f"dialogue {dialogue!r}"
                    raise BenchmarkError(
                        f"{source}: the audio of row {u.row} of the {u.table} table ({what}) could not be read "
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
