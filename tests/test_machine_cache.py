"""Generated datasets are made once per machine: every new home links the machine cache's entry, a
changed generator gets an entry of its own, a truncated or corrupted entry is made again, and processes
that start together make it once."""

from __future__ import annotations

import os
import threading

import datasets
import numpy as np
import pytest

from benchmark import data
from benchmark.data import cache, synthetic
from benchmark.data.loading import generator_identity
from benchmark.data.schema import SPLITS, MercDataset, features_for
from benchmark.home import Home
from tests.model_fixtures import tiny_meta

DIMS = {"text": 4}


@pytest.fixture
def machine_cache(tmp_path, monkeypatch):
    root = tmp_path / "machine"
    monkeypatch.setenv(cache.MACHINE_CACHE_ENV, str(root))
    return root / "generated"


class CountedMaker:
    """A small dataset maker that counts its calls (threads included)."""

    def __init__(self, seed: int = 0) -> None:
        self.seed, self.calls, self.lock = seed, 0, threading.Lock()

    def __call__(self) -> MercDataset:
        with self.lock:
            self.calls += 1
        rng = np.random.default_rng(self.seed)
        rows = {
            "dialogue_id": ["d0", "d1"],
            "speakers": [[0, 1, 0], [1, 0]],
            "labels": [[0, 1, 2], [3, 4]],
            "text": [rng.standard_normal((n, DIMS["text"])).astype(np.float32) for n in (3, 2)],
        }
        split = datasets.Dataset.from_dict(rows, features=features_for(DIMS))
        return MercDataset(tiny_meta(DIMS), datasets.DatasetDict({s: split for s in SPLITS}))


def text_of(dataset: MercDataset) -> np.ndarray:
    return np.concatenate(dataset.splits["test"].with_format("numpy")["text"])


def test_a_second_home_links_the_machines_entry_instead_of_generating(machine_cache, tmp_path):
    make = CountedMaker()
    first = cache.generated(Home(tmp_path / "a"), "f" * 64, "code1", make)
    second_home = Home(tmp_path / "b")
    second = cache.generated(second_home, "f" * 64, "code1", make)
    assert make.calls == 1
    assert np.array_equal(text_of(first), text_of(second)) and first.meta == second.meta
    [entry] = [p for p in machine_cache.iterdir() if not p.name.endswith(".lock")]
    linked = sorted(p for p in cache.folder(second_home, "f" * 64).rglob("*") if p.is_file())
    assert linked and all(  # the home holds its own links to the same files, not copies or a symlink
        p.stat().st_ino == (entry / p.relative_to(cache.folder(second_home, "f" * 64))).stat().st_ino
        for p in linked
    )
    assert not any(
        p.name.startswith(".incoming")
        for p in [*machine_cache.iterdir(), *second_home.dataset_cache.iterdir()]
    )


def test_another_generator_identity_or_fingerprint_makes_its_own_entry(machine_cache, tmp_path):
    make = CountedMaker()
    cache.generated(Home(tmp_path / "a"), "f" * 64, "code1", make)
    cache.generated(Home(tmp_path / "b"), "f" * 64, "code2", make)  # the generator's code changed
    cache.generated(Home(tmp_path / "c"), "e" * 64, "code1", make)  # its version or parameters changed
    assert make.calls == 3


@pytest.mark.parametrize("damage", ["truncate", "flip a byte", "lose the manifest"])
def test_a_damaged_entry_is_made_again_never_served(machine_cache, tmp_path, damage):
    make = CountedMaker()
    good = text_of(cache.generated(Home(tmp_path / "a"), "f" * 64, "code1", make))
    [entry] = [p for p in machine_cache.iterdir() if not p.name.endswith(".lock")]
    arrow = next(entry.rglob("*.arrow"))
    os.unlink(cache.folder(Home(tmp_path / "a"), "f" * 64) / arrow.relative_to(entry))  # the home's link
    if damage == "truncate":
        arrow.write_bytes(arrow.read_bytes()[:-100])
    elif damage == "flip a byte":
        content = bytearray(arrow.read_bytes())
        content[-50] ^= 0xFF
        arrow.write_bytes(bytes(content))
    else:
        (entry / cache.MANIFEST).unlink()
    again = cache.generated(Home(tmp_path / "b"), "f" * 64, "code1", make)
    assert make.calls == 2
    assert np.array_equal(text_of(again), good)


def test_homes_filled_at_once_make_the_entry_once(machine_cache, tmp_path):
    make = CountedMaker()
    results: list[np.ndarray] = []
    homes = [Home(tmp_path / f"home{i}") for i in range(4)]
    threads = [
        threading.Thread(target=lambda h=h: results.append(text_of(cache.generated(h, "f" * 64, "c", make))))
        for h in homes
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert make.calls == 1 and len(results) == 4
    assert all(np.array_equal(r, results[0]) for r in results)


def test_without_a_writable_machine_cache_each_home_generates_its_own(tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(cache.MACHINE_CACHE_ENV, str(blocked))
    assert cache.machine_cache_root() is None
    make = CountedMaker()
    cache.generated(Home(tmp_path / "a"), "f" * 64, "code1", make)
    assert make.calls == 1 and cache.folder(Home(tmp_path / "a"), "f" * 64).is_dir()


def test_the_synthetic_default_is_keyed_on_the_generators_version_and_code(
    machine_cache, tmp_path, monkeypatch
):
    make = CountedMaker()
    monkeypatch.setattr(synthetic, "generate", lambda family, modalities=None: make())
    data.load("synthetic-meld", Home(tmp_path / "a"))
    data.load("synthetic-meld", Home(tmp_path / "b"))
    fingerprint = synthetic.generator_fingerprint("meld", synthetic.SYNTHETIC_SEED)
    assert make.calls == 1 and (machine_cache / f"{fingerprint}.{generator_identity()}").is_dir()
    monkeypatch.setattr(synthetic, "GENERATOR_VERSION", synthetic.GENERATOR_VERSION + 1)
    data.load("synthetic-meld", Home(tmp_path / "c"))
    assert make.calls == 2
