"""What fine-tuning the offline default text encoder costs: `data --fine-tune` on the first dialogues of
each split of the real IEMOCAP transcripts, with torch pinned to the settings' threads, timed as a whole
(frozen layers run once, the trained layers for one epoch, every split encoded), and the same import
without fine-tuning for comparison.

    python scripts/fine_tune_speed.py PATH/TO/iemocap.pkl [--dialogues 10] [--set layers=2,...]

Prints the utterances, the seconds and the machine load beside them, since a shared machine slows them
down; scale by utterances for a whole dataset (IEMOCAP: 7,433 utterances, 5,163 of them trained on).
"""

from __future__ import annotations

import argparse
import os
import pickle
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("transcripts", help="a COSMIC transcript pickle (iemocap.pkl)")
    parser.add_argument("--dialogues", type=int, default=10, help="dialogues per split")
    parser.add_argument(
        "--set", default="epochs=1", help="fine-tune settings as KEY=VALUE,... (data --fine-tune)"
    )
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"

    from benchmark import data
    from benchmark.data.features import TextEncoder
    from benchmark.data.fine_tune import FineTuneSettings
    from benchmark.data.safe_pickle import load_pickle
    from benchmark.home import Home

    settings = FineTuneSettings.parse(args.set)
    speakers, labels, sentences, train, test, valid = load_pickle(Path(args.transcripts))
    kept = [ids[: args.dialogues] for ids in (train, test, valid)]
    chosen = {d for ids in kept for d in ids}
    items = [{d: v for d, v in item.items() if d in chosen} for item in (speakers, labels, sentences)]
    with tempfile.TemporaryDirectory() as root:
        source = Path(root) / "iemocap.pkl"
        source.write_bytes(pickle.dumps((*items, *kept), protocol=4))
        home = Home(Path(root) / "home")
        timings = {}
        for label, encoder in (("frozen", TextEncoder()), ("fine-tuned", TextEncoder(fine_tune=settings))):
            data.load("iemocap", Home(Path(root) / "warm-up"), str(source), data.ImportOptions(TextEncoder()))
            started = time.perf_counter()
            imported = data.load("iemocap", home, str(source), data.ImportOptions(text_encoder=encoder))
            timings[label] = time.perf_counter() - started
        counts = {split: sum(len(x) for x in imported.splits[split]["labels"]) for split in imported.splits}
    print(f"fine-tune settings: {settings.describe()}")
    print(f"utterances: {', '.join(f'{s} {n}' for s, n in counts.items())}")
    for label, seconds in timings.items():
        print(f"{label} import: {seconds:.1f} s")
    extra = timings["fine-tuned"] - timings["frozen"]
    per_epoch = extra / settings.epochs / counts["train"]
    print(
        f"fine-tuning adds {extra:.1f} s: {1000 * per_epoch:.0f} ms per training utterance and epoch (all included)"
    )
    print(
        f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
