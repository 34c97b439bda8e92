"""The one reader of `KEY=VALUE` items (`benchmark.errors.split_assignment`): any key and value come back
stripped, split at the first "="; anything else is the one line of the option that was given it, in that
option's own wording of what KEY may be. `--set`, `--fine-tune` and `--columns` all read through it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmark.data.fine_tune import FineTuneSettings
from benchmark.data.utterances import UtteranceColumns
from benchmark.errors import BenchmarkError, split_assignment
from benchmark.models.search_space import SHARED_SPACE, parse_settings

OPTION, EXPECTED = "--opt", "KEY=VALUE with KEY a name"
BLANKS = st.text(alphabet=" \t", max_size=3)
KEYS = st.text(min_size=1).filter(lambda key: "=" not in key and key.strip())


def _refusal(item: str, keys=None) -> str:
    with pytest.raises(BenchmarkError) as refused:
        split_assignment(item, OPTION, EXPECTED, keys)
    return str(refused.value)


@given(key=KEYS, value=st.text(), before=BLANKS, after=BLANKS)
def test_any_key_and_value_come_back_stripped_and_split_at_the_first_equals(key, value, before, after):
    item = f"{before}{key}{after}={before}{value}{after}"
    assert split_assignment(item, OPTION, EXPECTED) == (key.strip(), value.strip())
    assert split_assignment(item, OPTION, EXPECTED, keys={key.strip()}) == (key.strip(), value.strip())


@given(
    item=st.one_of(
        st.text().filter(lambda text: "=" not in text), st.builds("{}={}".format, BLANKS, st.text())
    )
)
def test_an_item_without_equals_or_without_a_key_is_one_line_naming_the_option_and_the_form(item):
    message = _refusal(item)
    assert message == f"{OPTION} {item!r}: expected {EXPECTED}"
    assert len(message.splitlines()) == 1


@given(key=KEYS, value=st.text())
def test_a_key_outside_the_given_keys_is_refused_in_the_same_line(key, value):
    item = f"{key}={value}"
    assert _refusal(item, keys={key.strip() + "x"}) == f"{OPTION} {item!r}: expected {EXPECTED}"


@pytest.mark.parametrize(
    ("parse", "message"),
    [
        (
            lambda: parse_settings("tfn", SHARED_SPACE, ["=0.1"]),
            "--set '=0.1': expected KEY=VALUE, e.g. --set lr=0.001",
        ),
        (
            lambda: FineTuneSettings.parse("=3"),
            "--fine-tune '=3': expected KEY=VALUE with KEY one of epochs,",
        ),
        (
            lambda: FineTuneSettings.parse("epochs"),
            "--fine-tune 'epochs': expected KEY=VALUE with KEY one of",
        ),
        (
            lambda: UtteranceColumns.parse(["=x"]),
            "--columns '=x': expected ROLE=COLUMN with ROLE one of dialogue,",
        ),
        (lambda: UtteranceColumns.parse(["speeker=who"]), "--columns 'speeker=who': expected ROLE=COLUMN"),
    ],
)
def test_each_option_refuses_through_it_in_its_own_words(parse, message):
    with pytest.raises(BenchmarkError) as refused:
        parse()
    assert str(refused.value).startswith(message)


def test_an_empty_value_is_each_option_s_to_judge():
    assert UtteranceColumns.parse(["audio= "]).audio == ""  # an empty name drops an optional column
    with pytest.raises(BenchmarkError, match="--set lr=: lr takes a number"):
        parse_settings("tfn", SHARED_SPACE, ["lr="])
