"""Benchmark: describing a joblib scikit-learn forest statically vs. loading it.

Fits a RandomForestClassifier whose joblib file is about --size-mb, then times, each in
a fresh subprocess so that peak RSS is that run's alone:

* baseline: ``joblib.load`` (what a naive auditor would do: it runs the file's code);
* inspector: ``inspect_object`` over a FileSource: the symbolic pickle reader, which
  steps over the trees' arrays and never imports scikit-learn.

Usage: .venv/bin/python bench/bench_model_pickle.py [--size-mb 100] [--dir /tmp]
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import harness

MIB = 1024 * 1024


def generate(path: Path, size_bytes: int) -> int:
    import joblib
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X, y = make_classification(n_samples=5000, n_features=20, random_state=0)
    probe = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    joblib.dump(probe, path)
    trees = max(5, int(5 * size_bytes / path.stat().st_size))
    model = RandomForestClassifier(n_estimators=trees, random_state=0, n_jobs=2).fit(X, y)
    joblib.dump(model, path)
    return trees


def child(mode: str, path: Path) -> dict[str, Any]:
    from notifier.inspection import FileSource, InspectionLimits, Phase, inspect_object

    if mode == "baseline":
        import joblib
        import sklearn.ensemble  # noqa: F401 - imports before the clock starts
    rss_before = harness.peak_rss_mib()
    started = time.perf_counter()
    if mode == "baseline":
        model = joblib.load(path)
        result: dict[str, Any] = {"trees": model.n_estimators, "bytes_read": path.stat().st_size}
    else:
        source = FileSource(path)
        verdict = inspect_object(Phase.TRAINING, source, InspectionLimits())
        result = {
            "trees": verdict.details["parametros"].get("n_estimators"),
            "bytes_read": source.bytes_read,
            "estado": verdict.estado,
            "opcodes": verdict.details["artifact"]["opcodes"],
        }
    result["seconds"] = time.perf_counter() - started
    result["rss_after_imports_mib"] = rss_before
    result["peak_rss_mib"] = harness.peak_rss_mib()
    return result


def _report(results: dict[str, dict[str, Any]], size: int, trees: int) -> None:
    baseline = results["baseline"]["seconds"]
    print(f"\n{'run':<12}{'seconds':>10}{'x baseline':>12}{'peak RSS MiB':>14}{'(imports)':>11}")
    for mode, result in results.items():
        print(
            f"{mode:<12}{result['seconds']:>10.3f}{result['seconds'] / baseline:>12.3f}"
            f"{result['peak_rss_mib']:>14.0f}{result['rss_after_imports_mib']:>11.0f}"
        )
    inspected = results["inspector"]
    print(
        f"\ninspector: estado={inspected['estado']} n_estimators={inspected['trees']}"
        f" expected={trees} -> {'MATCH' if inspected['trees'] == trees else 'MISMATCH'};"
        f" {inspected['opcodes']:,} opcodes over {size / MIB:.0f} MiB"
    )


def main() -> None:
    harness.run(
        __file__,
        __doc__ or "",
        default_size_mb=100,
        file_name="forest.joblib",
        generate=generate,
        child=child,
        modes=("baseline", "inspector"),
        report=_report,
    )


if __name__ == "__main__":
    main()
