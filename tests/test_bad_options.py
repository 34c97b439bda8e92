"""Options checked where they are parsed, round three: each case was once a traceback, a misleading error
or silence. Each is now one line and exit status 2 before the home is opened or any data read."""

from __future__ import annotations

import contextlib
import importlib
import io
import math
import os
import select
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import datasets
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmark.commands import ablate, cli
from benchmark.commands.cli import main as cli_main
from benchmark.data.schema import CLASS_NAMES
from benchmark.data.utterances import TableOptions, UtteranceColumns
from benchmark.files import exclusive
from benchmark.home import PROJECT_ROOT
from benchmark.store.records import RunKey
from benchmark.store.runs import RunStore
from benchmark.training import runner
from tests.data_fixtures import write_feature_pickle
from tests.test_data_errors import earlier, refused  # noqa: F401 (earlier: a fixture)
from tests.test_data_tables import IEMOCAP_ROWS, USER_TABLE, write_abstracttts_parquet

NAMES = ("dialogue_id", "turn", "speaker", "text", "label", "split")


def _exit_status(argv: list[str]) -> int:
    """What `python -m benchmark ARGV` exits with: argparse exits itself, the rest returns."""
    try:
        return cli_main(argv)
    except SystemExit as exited:
        return exited.code


def refused_at_parse(argv: list[str], message: str, capsys, tmp_path) -> str:
    """`argv` (given a home that does not exist yet) ends in one line holding `message`, exit status 2,
    and nothing was made: the home was never opened."""
    home = tmp_path / "untouched-home"
    assert _exit_status([*argv, "--home", str(home)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error, error
    assert message in error, error
    assert not home.exists()
    return error


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--model", "tfn", "--seeds", "99999999999"], "--seeds: 99999999999 is above 4294967295"),
        (["run", "--model", "tfn", "--seeds", "3", "3", "--jobs", "2"], "--seeds: 3 given twice"),
        (["run", "--model", "tfn", "--seeds", "1", "--seeds", "2"], "--seeds: given twice"),
        (["run", "--model", "tfn", "--threads", str(2**40)], "--threads: 1099511627776 is above 1024"),
        (["run", "--model", "tfn", "--jobs", "0"], "--jobs: 0 is below 1"),
        (["run", "--model", "tfn", "--jobs", str(2**40)], "--jobs: 1099511627776 is above 1024"),
        (["study", "sdmoe", "--address", "ray://head:10001"], "--address names a Ray cluster"),
        (["run", "--model", "tfn", "--device", "gpu"], "--device: 'gpu' is not a device: use auto, cpu"),
        (["run", "--model", "tfn", "--dataset", "synthetic-meld", "--dataset", "synthetic-meld"],
         "--dataset: synthetic-meld given twice"),
        (["run", "--model", "tfn", "--profile", "smoke", "--profile", "fast"], "--profile: given twice"),
        (["run", "--model", "text-teacher", "--ablation", "sdmoe"],
         "--ablation sdmoe is an ablation of summer, which is not selected: add --model summer"),
        (["run", "--model", "summer", "--model", "tfn", "--ablation", "sdmoe"],
         "tfn: none of the --ablation values is one of its variants, so it would train nothing"),
        (["run", "--all", "--model", "tfn"], "--all trains every model: drop --model, or drop --all"),
        (["run", "--model", "tfn", "--home", ""], "--home: an empty value"),
        (["tune", "--model", "text-teacher", "--ablation", "ikd", "--trials", "2"],
         "--ablation ikd is an ablation of summer"),
        (["tune", "--model", "tfn", "--trials", "2", "--sampler-seed", str(2**32)], "is above 4294967295"),
        (["ablate", "--drop", "ikd", "--drop", "ikd"], "--drop: ikd given twice"),
        (["ablate", "--drop", "ikdd"], "Did you mean 'ikd'?"),
        (["report", "--resamples", "100000000"], "--resamples: 100000000 is above 100000"),
        (["check", "--reference", ""], "--reference: an empty path"),
        (["data", "--dataset", "iemocap", "--dataset", "meld"], "--dataset: given twice"),
        (["data", "--dataset", "iemocap", "--source", ""], "--source: an empty value"),
        (["data", "--dataset", "iemocap", "--source", "   "], "--source: an empty value"),
        (["data", "--dataset", "iemocap", "--source", "t.csv", "--label-order", "happy,happy,neutral"],
         "--label-order: 'happy,happy,neutral' names 'happy' twice"),
        (["data", "--dataset", "iemocap", "--source", "t.csv", "--label-order", "happy,,neutral"],
         "--label-order: 'happy,,neutral' has an empty name"),
        (["data", "--dataset", "iemocap", "--source", "t.csv", "--drop-labels", "xxx,XXX"], "names 'XXX' twice"),
        (["data", "--dataset", "iemocap", "--source", "t.csv", "--columns", "text=a,text=b"],
         "--columns text: given twice"),
        (["data", "--dataset", "iemocap", "--source", "t.csv", "--fine-tune", "seed=-1"],
         "fine-tune setting seed=-1: give a seed from 0 to 4294967295"),
        (["data", "--dataset", "iemocap", "--source", "t.csv", "--fine-tune", f"seed={2**32}"],
         "fine-tune setting seed=4294967296"),
        (["data", "--dataset", "iemocap", "--source", "t.csv", "--fine-tune", "epochs=2,epochs=3"],
         "--fine-tune epochs: given twice"),
        (["data", "--dataset", "meld", "--source", "t.csv", "--fine-tune", "class_weighting=none,class_weighting=none"],
         "--fine-tune class_weighting: given twice"),
        (["data", "--dataset", "iemocap", "--source", "t.csv", "--fine-tune", f"threads={2**31}"],
         "fine-tune setting threads=2147483648: give at most 1024"),
        (["data", "--dataset", "iemocap", "--source", "t.csv", "--fine-tune", "weight_decay=inf"],
         "weight_decay=inf: need"),
        (["data", "--dataset", "iemocap", "--source", "t.csv", "--fine-tune", "--context", "-1"],
         "--context -1: give 0 or more previous turns"),
        (["data", "--dataset", "iemocap", "--source", "t.csv", "--context", "2"],
         "--context applies to fine-tuning"),
    ],
)  # fmt: skip
def test_a_bad_option_is_one_line_before_anything_opens(argv, message, capsys, tmp_path):
    refused_at_parse(argv, message, capsys, tmp_path)


def test_an_unknown_option_says_where_the_options_are_listed(capsys, tmp_path):
    error = refused_at_parse(
        ["run", "--model", "tfn", "--sede", "1"], "unrecognized arguments", capsys, tmp_path
    )
    assert "python -m benchmark COMMAND --help" in error


def test_ablate_trains_and_compares_each_dropped_component(monkeypatch, home, capsys):
    """`--drop ikd --drop sdmoe` once kept only the last --drop: now both are planned and shown."""
    monkeypatch.setenv("COLUMNS", "200")
    planned = []

    def score(key: RunKey) -> float:
        return {"none": 0.6, "ikd": 0.5, "sdmoe": 0.4}[key.ablation] + key.seed / 100

    def sweep(runs, *args, **kwargs):
        planned.extend(runs)
        return [SimpleNamespace(key=k, test=SimpleNamespace(weighted_f1=score(k))) for k in runs]

    monkeypatch.setattr(runner, "resolve_runs", lambda keys, *args: list(keys))
    monkeypatch.setattr(ablate, "run_sweep", sweep)
    argv = ["ablate", "--drop", "ikd", "--drop", "sdmoe", "--dataset", "synthetic-meld", "--profile", "smoke"]
    assert cli_main([*argv, "--seeds", "0", "1", "--home", str(home.root)]) == 0
    assert sorted({(k.ablation, k.seed) for k in planned}) == [
        (a, s) for a in ("ikd", "none", "sdmoe") for s in (0, 1)
    ]
    out = " ".join(capsys.readouterr().out.split())
    assert "summer vs w/o IKD on synthetic-meld" in out and "summer vs w/o SDMoE on synthetic-meld" in out
    assert "+10.00" in out and "+20.00" in out  # full − w/o IKD, full − w/o SDMoE, in points


def _write_table(path, rows=USER_TABLE, names=NAMES, **extra) -> str:
    columns = {name: [r[i] for r in rows] for i, name in enumerate(names)} | extra
    datasets.Dataset.from_dict(columns).to_parquet(str(path))
    return str(path)


def test_drop_labels_that_would_drop_nothing_are_refused(tmp_path, home, earlier):  # noqa: F811
    path = _write_table(tmp_path / "t.parquet")
    for name in ("happy", "Hap"):  # a class name, and the releases' spelling of one: both are kept classes
        options = TableOptions(drop_labels=(name,))
        refused(home, path, f"--drop-labels {name}: '{name}' is one of the iemocap classes", earlier,
                _import(options))  # fmt: skip
    rows = [(*r[:4], "joyful" if i == 0 else r[4], r[5]) for i, r in enumerate(USER_TABLE)]
    path = _write_table(tmp_path / "j.parquet", rows)
    refused(home, path, f"{path}: --drop-labels joyfull: the table has no label 'joyfull' .*: joyful\\)",
            earlier, _import(TableOptions(drop_labels=("joyful", "joyfull"))))  # fmt: skip
    from benchmark import data

    kept = data.load("iemocap", home, path, _import(TableOptions(drop_labels=("JOYFUL",))))
    assert any("dropped 1 utterances" in note for note in kept.meta.notes)


def test_table_settings_on_a_source_that_is_not_a_table_are_refused(tmp_path, home, earlier):  # noqa: F811
    path = write_feature_pickle(tmp_path / "features.pkl", "mmgcn-iemocap")
    refused(home, path, f"{path}: --columns, --label-order apply to a table of utterances .* this source is ",
            earlier, _import(TableOptions(columns=UtteranceColumns.parse(["text=utterance"]),
                                          label_order=tuple(CLASS_NAMES["iemocap"]))))  # fmt: skip


def test_list_sources_with_import_options_is_one_line(tmp_path, capsys):
    home = tmp_path / "home"
    assert (
        cli_main(["data", "--list-sources", "--dataset", "meld", "--source", "x.csv", "--home", str(home)])
        == 2
    )
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1
        and "--list-sources only lists the named releases, and --dataset, --source" in err
    )
    assert not home.exists()


def test_drop_labels_that_drop_every_utterance_are_one_line(tmp_path, home, earlier):  # noqa: F811
    rows = [(*r[:4], "joyful", r[5]) for r in USER_TABLE]
    path = _write_table(tmp_path / "all-joyful.parquet", rows)
    refused(home, path, f"{path}: the train split is empty", earlier,
            _import(TableOptions(drop_labels=("joyful",))))  # fmt: skip


def test_drop_labels_on_the_iemocap_layout_must_name_one_of_its_labels(tmp_path, home, earlier):  # noqa: F811
    path = tmp_path / "iemocap.parquet"
    write_abstracttts_parquet(path)
    refused(home, path, "--drop-labels fear: the table has no label 'fear'", earlier,
            _import(TableOptions(drop_labels=("fear",))))  # fmt: skip


def _import(table: TableOptions):
    from benchmark import data

    return data.ImportOptions(text_encoder=None, table=table)


def _tones(folder, name: str, base: float) -> list[str]:
    import soundfile

    folder.mkdir(exist_ok=True)
    seconds = np.arange(8000) / 16000
    paths = []
    for i in range(len(IEMOCAP_ROWS)):
        wave = 0.3 * np.sin(2 * np.pi * base * (i + 1) * seconds)
        soundfile.write(str(folder / f"{name}{i}.wav"), wave.astype(np.float32), 16000)
        paths.append(f"{folder.name}/{name}{i}.wav")
    return paths


def test_columns_audio_reads_the_column_it_names(tmp_path):
    """`--columns audio=wav` read the `audio` column when the table had one too, and raised StopIteration
    when it had none: the named column is the one read, as a table holding only it gives."""
    pytest.importorskip("opensmile")
    from benchmark import data
    from benchmark.home import Home

    wav, other = _tones(tmp_path / "w", "wav", 110.0), _tones(tmp_path / "w", "other", 170.0)
    features = {}
    for name, columns, extra in [
        ("alone", UtteranceColumns(), {"audio": wav}),
        ("named", UtteranceColumns(audio="wav"), {"wav": wav}),
        ("beside", UtteranceColumns(audio="wav"), {"audio": other, "wav": wav}),
    ]:
        path = tmp_path / f"{name}.parquet"
        write_abstracttts_parquet(path)
        table = datasets.Dataset.from_parquet(str(path))
        for column, values in extra.items():
            table = table.add_column(column, values)
        table.to_parquet(str(path))
        options = _import(TableOptions(columns=columns))
        dataset = data.load("iemocap", Home(tmp_path / f"home-{name}"), str(path), options)
        features[name] = np.concatenate(dataset.splits["train"].with_format("numpy")["audio"])
    assert np.array_equal(features["named"], features["alone"])
    assert np.array_equal(features["beside"], features["alone"])


HOLDER = """
import sys, pathlib, time
from benchmark.files import exclusive
with exclusive(pathlib.Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()
    pathlib.Path(sys.argv[1]).write_text("written by the holder")
"""


def _holder(path) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_run_waiting_on_a_locked_key_says_for_which_process_and_how_to_stop(home):
    key = RunKey("tfn", "none", "synthetic-iemocap", "smoke", 0)
    record = RunStore(home).path(key)
    holder = _holder(record)
    try:
        os.kill(holder.pid, signal.SIGSTOP)  # suspended, as with Ctrl-Z
        waiter = subprocess.Popen(
            [sys.executable, "-c", "import sys, pathlib\nfrom benchmark.files import exclusive\n"
             "with exclusive(pathlib.Path(sys.argv[1])): print(pathlib.Path(sys.argv[1]).read_text())",
             str(record)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT)},
        )  # fmt: skip
        ready, _, _ = select.select([waiter.stderr], [], [], 30)
        assert ready, "the waiter said nothing in 30 s"
        said = waiter.stderr.readline()
        assert said.startswith(f"waiting: process {holder.pid}, suspended, holds {record}.lock")
        assert "press Ctrl-C" in said and f"kill -CONT {holder.pid}" in said and f"kill {holder.pid}" in said
        time.sleep(0.2)
        assert waiter.poll() is None  # still waiting, as it said
        os.kill(holder.pid, signal.SIGCONT)
        holder.stdin.write("\n")
        holder.stdin.flush()
        out, _ = waiter.communicate(timeout=60)
        assert (
            waiter.returncode == 0 and out.strip() == "written by the holder"
        )  # what the holder made survived
    finally:
        os.kill(holder.pid, signal.SIGCONT)
        holder.kill()
        holder.wait()


def test_a_lock_taken_without_waiting_says_nothing(tmp_path, capfd):
    with exclusive(tmp_path / "record.json"):
        pass
    assert capfd.readouterr().err == ""


def test_every_command_checks_its_options_through_the_one_parser():
    """The generic refusals hold for every command's options, not only the ones listed above."""
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name, command in commands.items():
        for action in command._actions:
            if action.option_strings and action.nargs != 0:
                kind = type(action).__name__
                assert kind in ("_StoreOnce", "_AppendUnique"), f"{name} {action.option_strings}: {kind}"


# Property: any argument list either parses into values every later step can take, or is one line and exit
# status 2; never a traceback. The values are drawn to hit the edges: numpy's seed range, empty and blank
# strings, repeats, names of models, ablations and classes that belong to other things.
PROPERTY_COMMANDS = {
    "run": ["--model", "tfn"],
    "ablate": ["--drop", "ikd"],
    "data": ["--dataset", "iemocap", "--source", "t.csv"],
    "report": [],
}
EDGE_VALUES = [
    "", " ", "0", "-1", "1", "2", "3", str(2**32 - 1), str(2**32), "99999999999", "100000", "100001", "1e3",
    "nan", "none", "summer", "tfn", "text-teacher", "ikd", "sdmoe", "latent", "synthetic-meld",
    "synthetic-iemocap", "iemocap", "meld", "smoke", "fast", "happy,sad", "happy,happy", "happy,,sad", "joyful",
    "seed=-1", "seed=4294967296", "seed=5", "epochs=0", "epochs=2,epochs=2", "weight_decay=inf",
    "dropout=nan", "threads=2147483648", "text=a,text=b", "audio=wav", "text=", "lr=0.001", "cpu", "cuda:x", "bf16", "ray", "-",
]  # fmt: skip


def _option_names(command: str) -> list[str]:
    parser = next(a for a in cli.build_parser()._actions if a.dest == "command").choices[command]
    return [a.option_strings[-1] for a in parser._actions if a.option_strings and a.dest != "help"]


@st.composite
def _argument_lists(draw, command: str) -> list[str]:
    values = st.one_of(
        st.sampled_from(EDGE_VALUES),
        st.integers(-(2**40), 2**40).map(str),
        st.text(alphabet="ab,=- 01", max_size=6),
    )
    pieces = st.tuples(st.sampled_from(_option_names(command)), st.lists(values, max_size=2))
    argv = list(draw(st.sampled_from([[], PROPERTY_COMMANDS[command]])))
    for option, option_values in draw(st.lists(pieces, max_size=4)):
        argv += [option, *option_values]
    return argv


def _parses_into_valid_values_or_one_line(command: str, argv: list[str], home) -> None:
    from benchmark.commands.data import fine_tune_settings
    from benchmark.commands.report import MOST_RESAMPLES
    from benchmark.errors import BenchmarkError
    from benchmark.seeding import SEED_MAX

    said, parsed = io.StringIO(), []
    module = importlib.import_module(f"benchmark.commands.{command}")
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stderr(said):
        patch.setattr(module, "main", parsed.append)  # what the command would be given, nothing run
        status = _exit_status([command, *argv, "--home", str(home)])
    assert not home.exists()
    if status != 0:
        assert status == 2 and said.getvalue().count("\n") == 1, (argv, said.getvalue())
        return
    (args,) = parsed
    for name, value in vars(args).items():
        items = value if isinstance(value, list) else [value]
        assert len(set(map(str, items))) == len(items), (name, value)
        assert not any(isinstance(v, str) and not v.strip() and name != "fine_tune" for v in items), (
            name,
            value,
        )
    if getattr(args, "seeds", None):
        assert all(0 <= s <= SEED_MAX for s in args.seeds)
    bounds = (("threads", 1, 1024), ("jobs", 1, 1024), ("resamples", 1, MOST_RESAMPLES), ("context", 0, None))
    for name, least, most in bounds:
        value = getattr(args, name, None)
        assert value is None or (value >= least and (most is None or value <= most)), (name, value)
    if getattr(args, "device", None) is not None:
        assert args.device in ("auto", "cpu", "cuda") or args.device.removeprefix("cuda:").isdigit()
    if command == "data" and args.fine_tune is not None:
        settings = fine_tune_settings(args)
        assert 0 <= settings.seed <= SEED_MAX and math.isfinite(settings.weight_decay)
        assert 1 <= settings.threads <= 1024
    if command == "run":
        from benchmark.experiment.catalog import MODELS

        models = MODELS.names() if args.all else args.model
        try:
            keys = runner.plan(models, ["synthetic-meld"], "smoke", [0], args.ablation, args.set)
        except BenchmarkError:  # a bad --set is one line when the plan is made, before any data loads
            return
        assert {k.model for k in keys} == set(models)  # no selected model silently left without a run


@pytest.mark.parametrize("command", PROPERTY_COMMANDS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_argument_list_parses_into_valid_values_or_is_one_line(command, data, tmp_path):
    argv = data.draw(_argument_lists(command))
    _parses_into_valid_values_or_one_line(command, argv, tmp_path / "untouched-home")


@pytest.mark.slow
@pytest.mark.parametrize("command", PROPERTY_COMMANDS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_many_argument_lists_parse_into_valid_values_or_are_one_line(command, data, tmp_path):
    argv = data.draw(_argument_lists(command))
    _parses_into_valid_values_or_one_line(command, argv, tmp_path / "untouched-home")
