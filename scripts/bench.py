"""Cold-start cost of every handler: import time as a ratio to `python -c "import boto3"`.

Each import runs in a fresh interpreter, as a Lambda cold start does, several times, in rounds
that interleave all snippets so that the machine's drift hits them alike; the figure is the
median wall time. Only ratios from the same run are compared. Target: every ratio at most 1.5.

Two environments are measured:
- the project's .venv, where developer tools also install packages that botocore picks up
  when present (pyOpenSSL, awscrt), which makes `import boto3` slower than on Lambda;
- a Lambda-like one: only boto3 (the runtime's) and the layer's requirements, no site-packages.
"""

from __future__ import annotations

import os
import re
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
LAYER_REQUIREMENTS = REPO / "layers" / "common" / "requirements.txt"
LAMBDA_LIKE_SITE = REPO / ".local" / "bench-site"


def seconds(command: list[str], code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([*command, "-c", code], env=env, check=True)
    return time.perf_counter() - started


def medians(command: list[str], codes: list[str], env: dict[str, str]) -> dict[str, float]:
    for code in codes:
        seconds(command, code, env)  # warm the .pyc cache
    samples: dict[str, list[float]] = {code: [] for code in codes}
    for _ in range(RUNS):
        for code in codes:
            samples[code].append(seconds(command, code, env))
    return {code: statistics.median(values) for code, values in samples.items()}


def report(title: str, command: list[str], paths: list[Path], modules: list[str]) -> float:
    template = load_template()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
        "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
        **template.environment,
        "AWS_DEFAULT_REGION": "eu-central-1",
    }
    baselines = ["import boto3", STRIPE_BASELINE]
    timings = medians(command, ["pass", *baselines, *(f"import {m}" for m in modules)], env)
    print(f"\n{title}: median of {RUNS} interleaved runs, a fresh interpreter each")
    print(f"  {'python -c pass':<44}{timings['pass'] * 1000:8.0f} ms")
    for code in baselines:
        print(f"  {f'python -c "{code}"':<44}{timings[code] * 1000:8.0f} ms   ratio 1.00")
    worst = 0.0
    for module in modules:
        elapsed = timings[f"import {module}"]
        # The functions that pay are measured against boto3 and stripe, the others against
        # boto3 alone; `stripe_free` checks that the others really do not load it.
        baseline = timings[STRIPE_BASELINE if module in PAYING else "import boto3"]
        ratio = elapsed / baseline
        worst = max(worst, ratio)
        flag = "" if ratio <= TARGET else f"   over the {TARGET} target"
        print(f"  {module:<44}{elapsed * 1000:8.0f} ms   ratio {ratio:4.2f}{flag}")
    print(f"  worst ratio {worst:.2f} (target at most {TARGET})")
    return worst


STRIPE_BASELINE = "import boto3, stripe"
# The functions that load the Stripe SDK when imported; every other one must not.
PAYING = frozenset(
    {
        "functions.payments.create_payment_intent",
        "functions.payments.pay_booking",
        "functions.webhook.stripe_webhook",
    }
)


def stripe_free(command: list[str], paths: list[Path], modules: list[str]) -> None:
    """Which handlers load stripe at import: only those in PAYING may."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
        "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
        **load_template().environment,
        "AWS_DEFAULT_REGION": "eu-central-1",
    }
    loaded = []
    for module in modules:
        probe = (
            f"import importlib, sys; importlib.import_module({module!r});"
            " print('stripe' in sys.modules)"
        )
        result = subprocess.run(
            [*command, "-c", probe], env=env, capture_output=True, text=True, check=True
        )
        if result.stdout.strip() == "True":
            loaded.append(module)
    unexpected = sorted(set(loaded) - PAYING)
    print(f"\n  handlers that load stripe at import: {', '.join(sorted(loaded)) or 'none'}")
    print(f"  others that do (should be none): {', '.join(unexpected) or 'none'}")


def lambda_like_site() -> Path:
    """boto3 at the locked version plus the layer's requirements, installed once."""
    lock = (REPO / "requirements" / "dev.lock").read_text()
    pins = [
        match.group(0)
        for name in ("boto3", "botocore", "s3transfer")
        if (match := re.search(rf"^{name}==[^\s\\]+", lock, re.MULTILINE))
    ]
    wanted = "\n".join([*pins, LAYER_REQUIREMENTS.read_text()])
    stamp = LAMBDA_LIKE_SITE / ".requirements"
    if not stamp.exists() or stamp.read_text() != wanted:
        print("installing a Lambda-like site (boto3 + the layer's requirements) ...")
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--upgrade", "--target",
             str(LAMBDA_LIKE_SITE), *pins, "-r", str(LAYER_REQUIREMENTS)],
            check=True,
        )  # fmt: skip
        stamp.write_text(wanted)
    return LAMBDA_LIKE_SITE


def main() -> int:
    template = load_template()
    modules = sorted({spec.module for spec in template.functions.values()})
    code_paths = [REPO / "layers" / "common", REPO]
    report("project .venv", [sys.executable], code_paths, modules)
    stripe_free([sys.executable], code_paths, modules)
    base_python = getattr(sys, "_base_executable", sys.executable)
    report(
        "Lambda-like (boto3 and the layer only, python -S)",
        [base_python, "-S"],
        [lambda_like_site(), *code_paths],
        modules,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
