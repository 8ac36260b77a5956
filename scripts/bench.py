"""Cold-start cost of every handler: import time as a ratio to `python -c "import boto3"`.

Each import runs in a fresh interpreter (as a Lambda cold start does), several times; the
figure is the median wall time. The machine may be noisy, so only ratios measured in the same
run are compared. Target: every ratio at most 1.5.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from local.template import load_template  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "15"))
TARGET = 1.5


def seconds(code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return time.perf_counter() - started


def medians(codes: list[str], env: dict[str, str]) -> dict[str, float]:
    """Median wall time of each snippet; rounds interleave them so drift hits all alike."""
    for code in codes:
        seconds(code, env)  # warm the .pyc cache
    samples: dict[str, list[float]] = {code: [] for code in codes}
    for _ in range(RUNS):
        for code in codes:
            samples[code].append(seconds(code, env))
    return {code: statistics.median(values) for code, values in samples.items()}


def main() -> int:
    template = load_template()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "layers" / "common"), str(REPO)]),
        **template.environment,
        "AWS_DEFAULT_REGION": "eu-central-1",
    }
    modules = sorted({spec.module for spec in template.functions.values()})
    timings = medians(["pass", "import boto3", *(f"import {m}" for m in modules)], env)
    baseline = timings["import boto3"]
    print(f"median of {RUNS} interleaved runs, a fresh interpreter each")
    print(f"{'python -c pass':<44}{timings['pass'] * 1000:8.0f} ms")
    print(f"{'python -c "import boto3"':<44}{baseline * 1000:8.0f} ms   ratio 1.00 (baseline)")
    worst = 0.0
    for module in modules:
        elapsed = timings[f"import {module}"]
        ratio = elapsed / baseline
        worst = max(worst, ratio)
        flag = "" if ratio <= TARGET else f"   over the {TARGET} target"
        print(f"{module:<44}{elapsed * 1000:8.0f} ms   ratio {ratio:4.2f}{flag}")
    print(f"worst ratio {worst:.2f} (target at most {TARGET})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
