"""Cold-start cost of every handler: import time as a ratio to `python -c "import boto3"`.

Each import runs in a fresh interpreter, as a Lambda cold start does, several times, in rounds
that interleave all snippets so that the machine's drift hits them alike; the figure is the
median wall time. Only ratios from the same run are compared. Target: every ratio at most 1.2.

Two environments are measured:
- the project's .venv, where developer tools also install packages that botocore picks up
  when present (pyOpenSSL, awscrt), which makes `import boto3` slower than on Lambda;
- a Lambda-like one: only boto3 (the runtime's) and the layer's requirements, no site-packages.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from local.template import load_template  # noqa: E402
from scripts.doc_blocks import replace_block  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "15"))
TARGET = 1.2
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


def handler_environment(paths: list[Path]) -> dict[str, str]:
    """The environment a handler is imported in: the functions' settings from template.yaml,
    `paths` as the only import path, and none of this interpreter's PYTHON* variables."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
        "PYTHONPATH": os.pathsep.join(str(p) for p in paths),
        **load_template().environment,
        "AWS_DEFAULT_REGION": "eu-central-1",
    }


def report(
    title: str, command: list[str], paths: list[Path], modules: list[str]
) -> dict[str, tuple[float, float]]:
    """Print the medians and ratios; return module -> (median seconds, ratio)."""
    env = handler_environment(paths)
    baselines = ["import boto3", STRIPE_BASELINE]
    timings = medians(command, ["pass", *baselines, *(f"import {m}" for m in modules)], env)
    print(f"\n{title}: median of {RUNS} interleaved runs, a fresh interpreter each")
    print(f"  {'python -c pass':<44}{timings['pass'] * 1000:8.0f} ms")
    for code in baselines:
        print(f"  {f'python -c "{code}"':<44}{timings[code] * 1000:8.0f} ms   ratio 1.00")
    worst = 0.0
    results: dict[str, tuple[float, float]] = {}
    for module in modules:
        elapsed = timings[f"import {module}"]
        # The functions that pay are measured against boto3 and stripe, the others against
        # boto3 alone; `stripe_free` checks that the others really do not load it.
        baseline = timings[STRIPE_BASELINE if module in PAYING else "import boto3"]
        ratio = elapsed / baseline
        results[module] = (elapsed, ratio)
        worst = max(worst, ratio)
        flag = "" if ratio <= TARGET else f"   over the {TARGET} target"
        print(f"  {module:<44}{elapsed * 1000:8.0f} ms   ratio {ratio:4.2f}{flag}")
    print(f"  worst ratio {worst:.2f} (target at most {TARGET})")
    results["import boto3"] = (timings["import boto3"], 1.0)
    results[STRIPE_BASELINE] = (timings[STRIPE_BASELINE], 1.0)
    return results


STRIPE_BASELINE = "import boto3, stripe"
# The functions that load the Stripe SDK when imported; every other one must not.
PAYING = frozenset(
    {
        "functions.payments.create_payment_intent",
        "functions.payments.pay_booking",
        "functions.webhook.stripe_webhook",
    }
)


def loaded_at_import(
    command: list[str], paths: list[Path], modules: list[str]
) -> dict[str, set[str]]:
    """Which handlers load stripe at import (only those in PAYING may), and which pydantic."""
    env = handler_environment(paths)
    loaded: dict[str, set[str]] = {"stripe": set(), "pydantic": set()}
    for module in modules:
        probe = (
            f"import importlib, sys; importlib.import_module({module!r});"
            " print(*(name in sys.modules for name in ('stripe', 'pydantic')))"
        )
        result = subprocess.run(
            [*command, "-c", probe], env=env, capture_output=True, text=True, check=True
        )
        stripe_loaded, pydantic_loaded = result.stdout.split()
        if stripe_loaded == "True":
            loaded["stripe"].add(module)
        if pydantic_loaded == "True":
            loaded["pydantic"].add(module)
    unexpected = sorted(loaded["stripe"] - PAYING)
    print(
        f"\n  handlers that load stripe at import: {', '.join(sorted(loaded['stripe'])) or 'none'}"
    )
    print(f"  others that do (should be none): {', '.join(unexpected) or 'none'}")
    print(f"  handlers that load pydantic at import: {len(loaded['pydantic'])} of {len(modules)}")
    return loaded


def markdown(results: dict[str, tuple[float, float]], loaded: dict[str, set[str]]) -> str:
    """The Lambda-like figures as the README shows them: a summary line and the table."""
    modules = sorted(m for m in results if m not in ("import boto3", STRIPE_BASELINE))
    over = [m for m in modules if results[m][1] > TARGET]
    worst = max(results[m][1] for m in modules)
    plain = [m for m in modules if m not in loaded["pydantic"]]
    validating = [m for m in modules if m in loaded["pydantic"]]

    def span(names: list[str]) -> str:
        if not names:
            return "none"
        ratios = [results[m][1] for m in names]
        return f"{len(names)}, {min(ratios):.2f}-{max(ratios):.2f}"

    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M UTC} ({platform.machine()},"
        f" {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, Python"
        f" {platform.python_version()}), Lambda-like site, median of {RUNS} interleaved runs:"
        f" `import boto3` {results['import boto3'][0] * 1000:.0f} ms, `import boto3, stripe`"
        f" {results[STRIPE_BASELINE][0] * 1000:.0f} ms. {len(modules) - len(over)} of"
        f" {len(modules)} handlers at or under {TARGET}, worst {worst:.2f}. Handlers that"
        f" load no pydantic: {span(plain)}; handlers that validate input with pydantic:"
        f" {span(validating)}.",
        "",
        "<details><summary>Every handler</summary>",
        "",
        "| handler | import | ratio | against | pydantic |",
        "| --- | --- | --- | --- | --- |",
    ]
    for module in modules:
        elapsed, ratio = results[module]
        against = "boto3, stripe" if module in PAYING else "boto3"
        flag = f"**{ratio:.2f}**" if ratio > TARGET else f"{ratio:.2f}"
        pydantic = "yes" if module in loaded["pydantic"] else "no"
        lines.append(f"| {module} | {elapsed * 1000:.0f} ms | {flag} | {against} | {pydantic} |")
    lines += ["", "</details>"]
    return "\n".join(lines)


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
    # BENCH_ENVIRONMENTS=lambda measures the Lambda-like environment alone (half the time).
    if os.environ.get("BENCH_ENVIRONMENTS", "venv,lambda") != "lambda":
        report("project .venv", [sys.executable], code_paths, modules)
    base_python = getattr(sys, "_base_executable", sys.executable)
    lambda_like = [lambda_like_site(), *code_paths]
    results = report(
        "Lambda-like (boto3 and the layer only, python -S)",
        [base_python, "-S"],
        lambda_like,
        modules,
    )
    loaded = loaded_at_import([base_python, "-S"], lambda_like, modules)
    table = markdown(results, loaded)
    written = [
        str(path.relative_to(REPO))
        for path in (REPO / "README.md", REPO / "docs" / "cold-start.md")
        if replace_block(path, "cold-start", table)
    ]
    print(f"\n  (Lambda-like figures written to {', '.join(written) or 'nothing'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
