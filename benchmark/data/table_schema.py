"""The declarative schemas every imported per-utterance table is checked against, one per input kind.

`raw_table_schema` checks one table as read, after its columns are mapped to roles (dialogue, turn,
speaker, text, label, split): what each cell must be. MELD's CSV release and the AbstractTTS IEMOCAP
layout are the same roles with stricter id formats (MELD's `Dialogue_ID` and `Utterance_ID` are whole
numbers, IEMOCAP's `file` is `Ses01F_impro01_F000`). Label names are matched to the family's classes by
`utterances._label_mapper`, which lists every unknown name at once; one utterance per (split, dialogue,
turn) is checked on the utterances every layout becomes (`utterances._check_one_per_turn`).

Why pandera: the rules are data, one column and one named check at a time, instead of conditions spread
over the reading loop where a new layout could skip one; its lazy validation collects every failing cell
with its row and column, and the error names the first of them (`check_raw_table`) with the fix that
check states. Ids are compared as the text they are: `00` and `0` are two dialogues.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from benchmark.errors import BenchmarkError

# Split names tables use for ours; anything else in a split column is an error, not a silent drop.
SPLIT_ALIASES = {"train": "train", "validation": "validation", "valid": "validation", "val": "validation",
                 "dev": "validation", "test": "test"}  # fmt: skip
IEMOCAP_FILE = re.compile(r"^(?P<dialogue>Ses(?P<session>\d\d)[FM]_.+)_(?P<speaker>[FM])(?P<number>\d+)$")
WHOLE_NUMBER = re.compile(r"^\s*(?P<number>[+-]?\d+)(\.0*)?\s*$")  # 3, or 3.0 as a float column writes it


def id_text(value) -> str | None:
    """A dialogue id or speaker as the text it is (an integer column's 7 is "7"), None when the cell
    holds no id: missing, blank, a fraction, a list or a struct."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, str) and value.strip():
        return value
    return None


def whole_number(value) -> int | None:
    """A turn or an integer label: an integer, an integral float (3.0 beside a missing value), or the
    text of one ("3", "3.0"); None for anything else."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return int(value) if np.isfinite(value) and float(value).is_integer() else None
    match = WHOLE_NUMBER.match(value) if isinstance(value, str) else None
    return int(match["number"]) if match else None


def _kind(value) -> str:
    """What a cell holds, for a message: a parquet struct arrives as a dict, a list column as a list."""
    if isinstance(value, dict):
        return f"a struct with fields {', '.join(map(str, value))}"
    if isinstance(value, (list, tuple, np.ndarray)):
        return f"a list of {len(value)} values"
    return repr(value)


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and np.isnan(value))


@dataclass(frozen=True)
class Rule:
    """One named cell check and what its failure says: `problem(value)` after "row R of the T table",
    then the fix."""

    test: Callable[[object], bool]
    problem: Callable[[object], str]
    fix: str


def _is_struct_or_list(value) -> bool:
    return isinstance(value, (dict, list, tuple, np.ndarray))


def _label_cell(value) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return whole_number(value) is not None or isinstance(value, (float, np.floating)) and np.isfinite(value)


def _rules(id_format: str) -> dict[str, Rule]:
    """The check of each role; `id_format` "whole" where dialogue ids are whole numbers (MELD)."""
    whole_ids = id_format == "whole"
    return {
        "dialogue": Rule(
            lambda v: id_text(v) is not None and (not whole_ids or whole_number(v) is not None),
            lambda v: (
                "has no dialogue id"
                if _is_missing(v)
                else f"has dialogue id {_kind(v)}, not {'a whole number' if whole_ids else 'an id (text or a whole number)'}"
            ),
            "fix the dialogue column (or name another with --columns dialogue=COLUMN)",
        ),
        "speaker": Rule(
            lambda v: id_text(v) is not None,
            lambda v: f"has speaker {_kind(v)}" if _is_struct_or_list(v) else "has no speaker",
            "fill it with the speaker's name or id, or drop the row",
        ),
        "text": Rule(
            lambda v: isinstance(v, str) and bool(v.strip()),
            lambda v: (
                f"has no text ({v!r})"
                if _is_missing(v) or isinstance(v, str)
                else f"has text {_kind(v)}, not a sentence"
            ),
            "give one sentence per row (a struct or list column flattened to its text) or drop the row, or "
            "import without text with --columns text=",
        ),
        "label": Rule(
            _label_cell,
            lambda v: (
                f"has label {_kind(v)}, not one class name or integer"
                if _is_struct_or_list(v)
                else "has no label"
            ),
            "each row holds one utterance's emotion: fill it or drop the row",
        ),
        "turn": Rule(
            lambda v: whole_number(v) is not None,
            lambda v: f"has turn {_kind(v)}, not a whole number",
            "fix it (turns order the utterances of a dialogue), or keep the row order with --columns turn=",
        ),
        "split": Rule(
            lambda v: isinstance(v, str) and v.strip().lower() in SPLIT_ALIASES,
            lambda v: f"is in split {_kind(v)}, which is none of train, validation (dev), test",
            "fix the split column so no dialogue is left out",
        ),
        "file": Rule(
            lambda v: isinstance(v, str) and IEMOCAP_FILE.match(v) is not None,
            lambda v: f"has file name {_kind(v)}, not an IEMOCAP utterance id like Ses01F_impro01_F000",
            "fix the file column",
        ),
    }


def raw_table_schema(columns: Mapping[str, str], id_format: str = "text") -> pa.DataFrameSchema:
    """One table after column mapping, its columns named by role: `columns` maps each role checked to its
    column in the file (named in messages); `id_format` "whole" for MELD's integer dialogue ids, "text"
    for any other."""
    rules = _rules(id_format)
    return pa.DataFrameSchema(
        {
            role: pa.Column(
                checks=pa.Check(rules[role].test, element_wise=True, name=role),
                nullable=False,  # reported through the role's rule, which says what the row lacks
                title=column,
            )
            for role, column in columns.items()
        },
        name="utterance table",
        metadata={"id_format": id_format},
    )


def check_raw_table(frame: pd.DataFrame, schema: pa.DataFrameSchema, source: str, table: str) -> None:
    """Raise the first failing cell (lowest row, then the schema's column order) as one line naming the
    file, the row, the column and the fix."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases.dropna(subset=["index"])
        if cases.empty:  # a whole-column failure: the roles are checked cell by cell, so not expected
            case = err.failure_cases.iloc[0]
            raise BenchmarkError(
                f"{source}: the {table} table's column for the {case['column']} fails {case['check']}: check the "
                "column holds one value per row"
            ) from None
        roles = list(schema.columns)
        first = (
            cases.assign(row=cases["index"].astype(int), position=cases["column"].map(roles.index))
            .sort_values(["row", "position"])
            .iloc[0]
        )
        role, row = str(first["column"]), int(first["row"])
        rule = _rules(schema.metadata["id_format"])[role]
        raise BenchmarkError(
            f"{source}: row {row} of the {table} table {rule.problem(frame.at[row, role])} "
            f"(column {schema.columns[role].title!r}): {rule.fix}"
        ) from None
