"""Per-utterance tables into canonical dialogues: the official MELD CSV release, utterance-level IEMOCAP
copies on the hub (`AbstractTTS/IEMOCAP` layout) and any table a user made (one row per utterance).

A table arrives as `datasets` splits (the csv/parquet/json builders, `load_from_disk` or the hub), is
grouped into dialogues in turn order, its labels matched **by name** to the family's class list (integer
labels only with the order stated), and its speakers numbered by first appearance within each dialogue.
Text stays as sentences (column `sentences`) for the feature extractors; an audio column is turned into
openSMILE features per utterance (`benchmark.data.features.audio_features`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace

import datasets
import numpy as np
import pandas as pd

from benchmark.data.features import AudioExtractor, audio_features
from benchmark.data.pickles import VALIDATION_CARVE_SEED, carve_validation
from benchmark.data.schema import CLASS_NAMES, MAX_SPEAKERS, SPLITS, MercDataset
from benchmark.data.table_schema import (
    IEMOCAP_FILE,
    SPLIT_ALIASES,
    check_raw_table,
    id_text,
    raw_table_schema,
    whole_number,
)
from benchmark.data.validate import build_splits, imported_dataset
from benchmark.errors import BenchmarkError, split_assignment

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
            role, column = split_assignment(
                item, "--columns", f"ROLE=COLUMN with ROLE one of {', '.join(valid)}", valid
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

    def identity(self) -> dict:
        """The settings that differ from the defaults, as they change what is read (which column is the
        label, which class an integer is, ...): part of the import's cache key. Defaults add nothing, so
        imports made before the key held them keep their fingerprint."""
        default = TableOptions()
        changed = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }
        if "columns" in changed:
            changed["columns"] = {
                f.name: getattr(self.columns, f.name)
                for f in fields(UtteranceColumns)
                if getattr(self.columns, f.name) != getattr(default.columns, f.name)
            }
        if "audio" in changed:
            changed["audio"] = self.audio.identity()
        return changed


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
    _check_one_per_turn(source, dialogues, utterances)
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
        rows = {dialogue: [(u.table, u.row) for u in turns] for dialogue, turns in dialogues.items()}
        features["audio"] = audio_features(rows, audio_columns, columns.audio, source, options.audio)
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
    roles = ["dialogue", "speaker", "label"] + (["text"] if columns.text else [])
    if split_from_column:
        roles.append("split")
    for table_split, table in splits.items():
        for role in roles:
            column = getattr(columns, role)
            if not column or column not in table.column_names:
                drop = ", or import without text with --columns text=" if role == "text" else ""
                raise BenchmarkError(
                    f"{source}: the {table_split} table has no column {column!r} for the {role} "
                    f"(columns: {', '.join(table.column_names)}): name it with --columns {role}=COLUMN{drop}"
                )
    if columns.turn:
        roles.append("turn")  # optional: a table without the column keeps its row order
    frames = _checked_frames(
        splits,
        {role: getattr(columns, role) for role in roles},
        source,
        "whole" if columns == MELD_COLUMNS else "text",
    )
    to_label = _label_mapper(source, family, options, notes, [f["label"] for f in frames.values()])
    utterances = []
    for table_split, frame in frames.items():
        for row, cells in enumerate(frame.itertuples(index=False)):
            label = to_label(cells.label)
            if label is None:
                continue
            split = SPLIT_ALIASES[cells.split.strip().lower()] if split_from_column else table_split
            dialogue = (
                str(whole_number(cells.dialogue)) if columns == MELD_COLUMNS else id_text(cells.dialogue)
            )
            # Dialogue ids restart in each file of a split release (MELD): the split keeps them apart.
            dialogue_id = f"{split}_{dialogue}" if not split_from_column else dialogue
            turn = whole_number(cells.turn) if "turn" in frame.columns else row
            text = cells.text if columns.text else None
            utterances.append(
                Utterance(split, table_split, dialogue_id, (turn,), id_text(cells.speaker), text, label, row)
            )
    return utterances


def _checked_frames(
    splits: Mapping[str, datasets.Dataset], roles: Mapping[str, str], source: str, id_format: str
) -> dict[str, pd.DataFrame]:
    """Each table's cells as read (no type inference: an id stays the text it is), one column per role
    (`roles`: role -> the table's column; a turn column a table lacks is left out), checked against the
    layout's schema."""
    frames = {}
    for table_split, table in splits.items():
        present = {r: c for r, c in roles.items() if r != "turn" or c in table.column_names}
        cells = table.select_columns(list(dict.fromkeys(present.values()))).to_dict()
        frame = pd.DataFrame(
            {role: pd.Series(cells[column], dtype=object) for role, column in present.items()}
        )
        check_raw_table(frame, raw_table_schema(present, id_format), source, table_split)
        frames[table_split] = frame
    return frames


def _check_one_per_turn(
    source: str, dialogues: dict[str, list[Utterance]], order: Sequence[Utterance]
) -> None:
    """Each (dialogue, turn) once; the dialogues' turns are sorted (stably), so a repeat sits right after
    its first. The repeat named is the one that comes first in the table."""
    position = {id(u): i for i, u in enumerate(order)}
    repeats = [
        b for turns in dialogues.values() for a, b in zip(turns, turns[1:], strict=False) if a.turn == b.turn
    ]
    if repeats:
        again = min(repeats, key=lambda u: position[id(u)])
        raise BenchmarkError(
            f"{source}: dialogue {again.dialogue!r} has turn {again.turn[0]!r} twice in the {again.split} split "
            f"(again at row {again.row} of the {again.table} table): each utterance needs its own turn (or name "
            "the turn column with --columns turn=COLUMN)"
        )


def _check_one_split(source: str, dialogue: str, turns: Sequence[Utterance]) -> None:
    first = turns[0]
    other = next((u for u in turns if u.split != first.split), None)
    if other is not None:
        raise BenchmarkError(
            f"{source}: dialogue {dialogue!r} has rows in {first.split} (row {first.row} of the "
            f"{first.table} table) and in {other.split} (row {other.row} of the {other.table} table): a "
            "dialogue belongs to one split; fix the split column or give the dialogues their own ids"
        )


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
    roles = {"file": "file", "text": "transcription", "label": "major_emotion"}
    frames = _checked_frames(splits, roles, source, "text")
    labels = [f["label"] for f in frames.values()]
    to_label = _label_mapper(source, family, options, notes, labels, also_dropped=IEMOCAP_OTHER_LABELS)
    utterances = []
    for table_split, frame in frames.items():
        for row, cells in enumerate(frame.itertuples(index=False)):
            label = to_label(cells.label)
            if label is None:
                continue
            match = IEMOCAP_FILE.match(cells.file)
            split = "test" if match["session"] == "05" else "train"
            # [choice] IEMOCAP numbers each speaker's utterances on their own; without start times the
            # dialogue order is taken as the utterance numbers interleaved, the table's row order breaking ties.
            turn = (int(match["number"]), row)
            utterances.append(
                Utterance(
                    split, table_split, match["dialogue"], turn, match["speaker"], cells.text, label, row
                )
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
    """A label as a class index where it is a whole number: an integer, a float as a table stores integers
    beside a missing value (3.0 beside NaN), or its text ("3", as a CSV read as text holds it); NaN as
    missing; anything else as the name it is."""
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return None
    number = whole_number(value)
    return value if number is None else number


def _class_name(value: str, classes: Sequence[str], aliases: Mapping[str, str]) -> str | None:
    name = value.strip().lower()
    name = aliases.get(name, name)
    return name if name in classes else None


def _speaker_roles(turns: Sequence[Utterance]) -> list[int]:
    roles: dict[str, int] = {}
    return [roles.setdefault(u.speaker, len(roles)) for u in turns]
