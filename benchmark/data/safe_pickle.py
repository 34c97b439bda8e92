"""A pickle reader that refuses to run code: only plain containers, numbers, strings and numpy arrays.

A pickle names callables to rebuild objects; `find_class` is the one door through which they enter, so
admitting only numpy's array-rebuilding functions (and nothing else) makes loading inert.
"""

from __future__ import annotations

import gzip
import io
import pickle
from pathlib import Path

from benchmark.data.table_files import GZIP_MAGIC, HEAD_BYTES, refuse_other_kinds
from benchmark.errors import BenchmarkError

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("collections", "OrderedDict"),
    ("collections", "defaultdict"),
    ("builtins", "list"),
    ("builtins", "dict"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "tuple"),
    ("__builtin__", "list"),
    ("__builtin__", "set"),
    ("builtins", "bytes"),
    ("__builtin__", "bytes"),
    ("_codecs", "encode"),  # how python 2 pickles carry byte strings under protocol 2
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, path: Path) -> None:
        super().__init__(file, encoding="latin1")
        self._path = path

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise BenchmarkError(
            f"{self._path}: refusing to unpickle {module}.{name} (only containers, numbers, strings and numpy "
            "arrays are admitted): re-save the file with plain lists, dicts and arrays"
        )


def load_pickle(path: Path) -> object:
    """Read `path` with the restricted unpickler (latin1, for the python-2 era MERC pickles)."""
    if not path.is_file():
        raise BenchmarkError(f"{path}: file not found: check the path passed as --source")
    data = path.read_bytes()
    if data.startswith(GZIP_MAGIC):  # a compressed pickle (NAME.pkl.gz) is read as the pickle inside
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as err:
            raise BenchmarkError(f"{path}: a damaged gzip file ({err}): compress or copy it again") from None
    refuse_other_kinds(path, data[:HEAD_BYTES], "pickle")
    try:
        return _RestrictedUnpickler(io.BytesIO(data), path).load()
    except BenchmarkError:
        raise
    except Exception as err:  # a truncated or non-pickle file: name it, don't dump a traceback
        fix = (
            "it is a text table: import a per-utterance table by its .csv/.jsonl name, or the MELD release by its folder"
            if _is_text(data)
            else "it is truncated or not a pickle: copy or export it again"
        )
        raise BenchmarkError(f"{path}: not a readable pickle ({type(err).__name__}): {fix}") from None


def _is_text(data: bytes) -> bool:
    head = data[:4096]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(head) and b"\x00" not in head and (b"," in head or b"\t" in head or b"{" in head)
