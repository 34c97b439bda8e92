"""`python -m benchmark <command>`: each command of `COMMANDS` is the module of that name beside this one, exposing
`add_arguments(parser)` and `main(args) -> int`. Command modules import torch, pandas and the models
inside `main`, so that `--help` answers at once."""

from __future__ import annotations

import argparse
import codecs
import importlib
import locale
import os
import sys

from benchmark.commands._options import OptionParser
from benchmark.errors import BenchmarkError
from benchmark.files import describe_os_error

UTF8_MODE = "PYTHONUTF8"

# name -> one-line help, in the order --help lists them
COMMANDS: dict[str, str] = {
    "run": "train models on datasets under fixed seeds and store a run record per run",
    "tune": "give every selected model the same budget of trials, chosen on validation, then train the best",
    "ablate": "train full SUMMER and SUMMER without one component on the same seeds, print both",
    "study": "the paper's studies: teacher modality, SDMoE vs attention, t-SNE of fused features",
    "report": "turn stored run records into Markdown reports, CSV tables and PNG plots",
    "check": "regression gate: retrain the smoke profile and compare with the committed reference",
    "list": "list registered datasets, models, ablations and profiles",
    "data": "import and validate a dataset from a hub id, a local folder or feature pickles",
}


def build_parser() -> argparse.ArgumentParser:
    parser = OptionParser(
        prog="python -m benchmark",
        description="summer-bench: reproducible SUMMER vs ablations vs baselines on IEMOCAP and MELD.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        _command_module(name).add_arguments(command_parser)
        command_parser.set_defaults(_command=name)
    return parser


def _command_module(name: str):
    return importlib.import_module(f"benchmark.commands.{name}")


def _rerun_in_utf8_mode() -> None:
    """[choice] Every file the suite reads and writes is UTF-8, and `datasets`/Arrow take UTF-8 paths only.
    Under a non-UTF-8 locale (`LC_ALL=C`) Python would open text files as ASCII (the paper's numbers hold
    non-ASCII names) and decode a non-ASCII path into surrogates no library can encode; the command
    instead runs itself again in Python's UTF-8 mode (PEP 540), which its subprocesses inherit. The
    environment variable set here stops it from doing so twice. Under a UTF-8 locale (the usual case) text
    and paths already are UTF-8, and the command runs as it is."""
    if sys.flags.utf8_mode or os.environ.get(UTF8_MODE) == "1" or _locale_is_utf8():
        return
    os.environ[UTF8_MODE] = "1"
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def _locale_is_utf8() -> bool:
    return (
        sys.getfilesystemencoding() == "utf-8"
        and codecs.lookup(locale.getpreferredencoding(False)).name == "utf-8"
    )


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line parsed (a bad option: one line, SystemExit 2) and its options checked together
    by the command's `check_options` (options that depend on each other, names that must exist: a
    BenchmarkError), before anything loads or trains."""
    args = build_parser().parse_args(argv)
    check = getattr(_command_module(args._command), "check_options", None)
    if check is not None:
        check(args)
    return args


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        _rerun_in_utf8_mode()
    try:
        args = parse_arguments(argv)
        return int(_command_module(args._command).main(args) or 0)
    except BenchmarkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # every record, weight file and cache is written whole or not at all: nothing to clean up
        print(
            "\ninterrupted: what was finished is kept, nothing was half-written; the same command resumes",
            file=sys.stderr,
        )
        return 130
    except OSError as err:
        print(f"error: {describe_os_error(err)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
