"""The benchmark: each model and the pipeline as ratios against a reference, measured in one run.

    python -m bench.run              # a few minutes on 2 cores; writes bench/results.{json,md}
    python -m bench.run --quick      # one repeat, no 10^6-row run: a smoke test of the script

Every figure is a median over repeats, and every ratio compares two things
timed in the same run on the same machine:
  1. KNN: the knn stage's predictor (scikit-learn k-d tree) against the
     tutorial's method (sort the whole table for every query).
  2. Gradient descent: steps to reach numpy.linalg.lstsq's loss (relative 1e-9),
     raw feature against standardised, at the tutorial's learning rate.
  3. The sigmoid net against scikit-learn's MLPRegressor (logistic, same units).
  4. The pipeline: `dvc repro -f`, a no-op `dvc repro` and `dvc exp run -S
     lr=0.001`, each against DVC's floor, a no-op `dvc status`.
  5. Scale: a synthetic CSV of 10^4, 10^5 and 10^6 rows through every stage.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.make_data import synthetic_frame  # noqa: E402
from fromzero.gradient_descent import GradientDescentLine  # noqa: E402
from fromzero.linear import LeastSquaresLine, mean_squared_error  # noqa: E402
from fromzero.neighbors import make_knn_regressor  # noqa: E402
from fromzero.sigmoid_net import SigmoidNet  # noqa: E402


def median_time(function, repeats):
    """(median seconds, last result) of calling ``function()`` ``repeats`` times."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


# ---- 1. KNN -------------------------------------------------------------------------------

def find_price_by_similar(history, query_x, topn=3):
    """The tutorial's KNN: sort every (rm, price) pair by distance to the query, average the top n.

    The tutorial sorts ``dict.items()``; here the same code sorts a list of every
    row's pair, so it does the work for the whole table, as our KNN does, rather
    than for the fewer rows a dict keyed on RM keeps.
    """
    most_similar_items = sorted(history, key=lambda e: (e[0] - query_x) ** 2)[:topn]
    return np.mean([price for rm, price in most_similar_items])


def bench_knn(repeats):
    rows = []
    for n in (10**3, 10**4, 10**5):
        frame = synthetic_frame(n + 1000, seed=1)
        x, y = frame["RM"].to_numpy()[:n], frame["MEDV"].to_numpy()[:n]
        queries = frame["RM"].to_numpy()[n:]
        table = list(zip(x.tolist(), y.tolist()))  # every row, as Python pairs the way the tutorial holds them
        tutorial_queries = queries[: max(10, min(1000, 2 * 10**6 // n))]
        tutorial_s, _ = median_time(lambda: [find_price_by_similar(table, q) for q in tutorial_queries], repeats)
        model = make_knn_regressor(3).fit(x.reshape(-1, 1), y)
        ours_s, _ = median_time(lambda: model.predict(queries.reshape(-1, 1)), repeats)
        tutorial_qps, ours_qps = len(tutorial_queries) / tutorial_s, len(queries) / ours_s
        rows.append({"train_rows": n, "tutorial_qps": round(tutorial_qps, 1), "ours_qps": round(ours_qps),
                     "speedup": round(ours_qps / tutorial_qps, 1)})
    return rows


# ---- 2. Gradient descent ------------------------------------------------------------------

def boston_split():
    import pandas as pd
    from sklearn.model_selection import train_test_split

    frame = pd.read_csv(ROOT / "data/raw/boston_house_prices.csv", skiprows=1)
    train, test = train_test_split(frame, test_size=0.2, random_state=42)
    return train.RM.to_numpy(), train.MEDV.to_numpy(), test.RM.to_numpy(), test.MEDV.to_numpy()


def bench_gd(repeats):
    x, y, _, _ = boston_split()
    design = np.column_stack([x, np.ones_like(x)])
    (k, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    optimum = mean_squared_error(y, k * x + b)
    result = {"lstsq_loss": optimum, "learning_rate": 0.01}
    for label, standardize in (("raw", False), ("standardized", True)):
        cap = 400_000
        # tol=0: never stop early; the loss history says when the optimum was reached.
        history = GradientDescentLine(learning_rate=0.01, steps=cap, standardize=standardize, tol=0.0,
                                      seed=42).fit(x, y).loss_history_
        reached = np.flatnonzero(history <= optimum * (1 + 1e-9))
        steps = int(reached[0]) if reached.size else None
        seconds, _ = median_time(lambda: GradientDescentLine(learning_rate=0.01, steps=max(steps or cap, 1),
                                                             standardize=standardize, tol=0.0, seed=42).fit(x, y),
                                 repeats)
        result[label] = {"steps_to_lstsq": steps, "seconds": round(seconds, 4),
                         "gap_after_2000_steps": float(history[2000] / optimum - 1)}
    raw, std = result["raw"]["steps_to_lstsq"], result["standardized"]["steps_to_lstsq"]
    result["step_ratio"] = round(raw / std, 1) if raw and std else None
    result["standardized_vs_tutorial_2000"] = round(2000 / std, 2) if std else None
    standardized = np.column_stack([(x - x.mean()) / x.std(), np.ones_like(x)])
    # Of the loss's Hessian (2/n)·XᵀX: how elongated the valley is that the descent walks down.
    result["condition_number"] = {"raw": round(float(np.linalg.cond(design.T @ design)), 1),
                                  "standardized": round(float(np.linalg.cond(standardized.T @ standardized)), 3)}
    return result


# ---- 3. The net against MLPRegressor ------------------------------------------------------

def bench_net(repeats):
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y, x_test, y_test = boston_split()
    rows = []
    for hidden in (1, 4, 8):
        def ours():
            return SigmoidNet(hidden=hidden, learning_rate=0.3, steps=2000, seed=42).fit(x, y)

        def theirs():
            # Standardised in and out, like ours; adam, sklearn's default solver, until its own tol.
            mlp = MLPRegressor(hidden_layer_sizes=(hidden,), activation="logistic", max_iter=2000,
                               random_state=42)
            return TransformedTargetRegressor(make_pipeline(StandardScaler(), mlp),
                                              transformer=StandardScaler()).fit(x.reshape(-1, 1), y)

        ours_s, net = median_time(ours, repeats)
        theirs_s, mlp = median_time(theirs, repeats)
        ours_mse = mean_squared_error(y_test, net.predict(x_test))
        theirs_mse = mean_squared_error(y_test, mlp.predict(x_test.reshape(-1, 1)))
        rows.append({"hidden": hidden, "ours_mse": round(ours_mse, 3), "mlp_mse": round(theirs_mse, 3),
                     "mse_ratio": round(ours_mse / theirs_mse, 3), "ours_s": round(ours_s, 3),
                     "mlp_s": round(theirs_s, 3), "time_ratio": round(ours_s / theirs_s, 2),
                     "mlp_iterations": int(mlp.regressor_[-1].n_iter_)})
    line = LeastSquaresLine().fit(x, y)
    return {"rows": rows, "least_squares_mse": round(mean_squared_error(y_test, line.predict(x_test)), 3)}


# ---- 4 and 5. The pipeline through DVC ----------------------------------------------------

def environment():
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    for key, value in (("GIT_AUTHOR_NAME", "bench"), ("GIT_AUTHOR_EMAIL", "bench@fromzero.invalid"),
                       ("GIT_COMMITTER_NAME", "bench"), ("GIT_COMMITTER_EMAIL", "bench@fromzero.invalid")):
        env.setdefault(key, value)
    return env


# A small launcher: a child forked from this (large) process would report our RSS as its
# peak, so the command is started from a fresh interpreter that reports its children's peak.
LAUNCHER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def measured(args, cwd):
    """Run a command: (seconds, peak RSS in MiB of its largest process, stdout + stderr)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", LAUNCHER, rss.name, *args], cwd=cwd, env=environment(),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seconds = time.perf_counter() - start
        peak_kib = int(rss.read() or 0)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed in {cwd}:\n{result.stdout}")
    return seconds, peak_kib / 1024, result.stdout


def dvc(*args):
    return [sys.executable, "-m", "dvc", *args]


def stages_run(output):
    return sorted(set(re.findall(r"Running stage '([^']+)'", output)))


def make_repo(parent):
    repo = Path(parent) / "repo"
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file() and not name.startswith("bench/"):
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    for command in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"], ["git", "commit", "-qm", "bench"]):
        subprocess.run(command, cwd=repo, env=environment(), check=True, capture_output=True)
    return repo


def bench_pipeline(repeats, workdir):
    repo = make_repo(workdir)
    measured(dvc("repro"), repo)  # fill the cache once
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "outputs", "--allow-empty"], cwd=repo, env=environment(), check=True)
    results = {}
    for name, command in (("dvc status (floor)", dvc("status")), ("no-op dvc repro", dvc("repro")),
                          ("dvc repro -f", dvc("repro", "-f")),
                          ("dvc exp run -S lr=0.001", dvc("exp", "run", "-S", "lr=0.001"))):
        times, reran = [], set()
        for _ in range(repeats):
            if name.startswith("dvc exp"):
                # A repeat must start where the first did and really rerun: restore the committed
                # workspace and outputs, and forget DVC's run-cache.
                subprocess.run(["git", "checkout", "--", "."], cwd=repo, check=True)
                subprocess.run(dvc("checkout", "-q"), cwd=repo, env=environment(), check=True)
                shutil.rmtree(repo / ".dvc" / "cache" / "runs", ignore_errors=True)
            seconds, _, output = measured(command, repo)
            times.append(seconds)
            reran.add(tuple(stages_run(output)))
        if len(reran) != 1:
            raise RuntimeError(f"the repeats of `{name}` ran different stages: {sorted(reran)}")
        results[name] = {"seconds": round(statistics.median(times), 3), "stages_run": list(reran.pop())}
    floor = results["dvc status (floor)"]["seconds"]
    for entry in results.values():
        entry["vs_floor"] = round(entry["seconds"] / floor, 2)
    results["dvc's own no-op repro/status ratio, one-stage repo"] = one_stage_ratio(repeats, workdir)
    return results


def one_stage_ratio(repeats, workdir):
    """DVC's own gap between a no-op `dvc repro` and `dvc status`, on the smallest pipeline there is."""
    repo = Path(workdir) / "one_stage"
    repo.mkdir()
    (repo / "dvc.yaml").write_text("stages:\n  copy:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n"
                                   "    outs: [out.txt]\n")
    (repo / "in.txt").write_text("x\n")
    for command in (["git", "init", "-q"], [sys.executable, "-m", "dvc", "init", "-q"]):
        subprocess.run(command, cwd=repo, env=environment(), check=True, capture_output=True)
    measured(dvc("repro"), repo)
    status = statistics.median(measured(dvc("status"), repo)[0] for _ in range(max(repeats, 3)))
    repro = statistics.median(measured(dvc("repro"), repo)[0] for _ in range(max(repeats, 3)))
    return {"seconds": round(repro, 3), "vs_floor": round(repro / status, 2), "stages_run": []}


def stage_commands(repo):
    import yaml

    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    return [(name, " ".join(stage["cmd"].split())) for name, stage in stages.items()]


def bench_scale(sizes, workdir):
    import yaml

    repo = make_repo(workdir)
    data_dir = ROOT / "bench" / "work"
    data_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for rows in sizes:
        csv = data_dir / f"synthetic_{rows}.csv"
        if not csv.exists():  # seeded: the same bytes every time, so keep it between runs
            synthetic_frame(rows, seed=0).to_csv(csv, index=False, lineterminator="\n")
        shutil.copy2(csv, repo / "data" / "raw" / csv.name)
        params = yaml.safe_load((repo / "params.yaml").read_text())
        params["data"]["csv"] = f"data/raw/{csv.name}"
        params["net"]["batch_size"] = 512  # the mini-batch option: a step costs the same at any size
        (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        end_to_end, dvc_rss, output = measured(dvc("repro"), repo)
        stages = {}
        for name, command in stage_commands(repo):
            seconds, rss, _ = measured(["/bin/sh", "-c", command], repo)
            stages[name] = {"seconds": round(seconds, 2), "peak_mib": round(rss)}
        results.append({"rows": rows, "dvc_repro_seconds": round(end_to_end, 2),
                        "dvc_repro_peak_mib": round(dvc_rss), "stages_run": stages_run(output),
                        "peak_stage_mib": max(stage["peak_mib"] for stage in stages.values()),
                        "stages": stages})
    return results


# ---- targets and the table ----------------------------------------------------------------

def targets(results):
    checks = []
    knn = {row["train_rows"]: row for row in results["knn"]}
    checks.append(("KNN at 10^5 rows ≥ 1000× the tutorial's method", knn[10**5]["speedup"] >= 1000,
                   f"{knn[10**5]['speedup']}×"))
    ratio = results["gd"]["step_ratio"]
    checks.append(("standardised GD reaches lstsq (rel 1e-9) in ≥ 50× fewer steps than raw",
                   bool(ratio and ratio >= 50), f"{ratio}×"))
    for row in results["net"]["rows"]:
        checks.append((f"net ({row['hidden']} units) test MSE ≤ MLPRegressor's", row["mse_ratio"] <= 1.0,
                       f"{row['mse_ratio']}×"))
        checks.append((f"net ({row['hidden']} units) fit time ≤ 2× MLPRegressor's", row["time_ratio"] <= 2.0,
                       f"{row['time_ratio']}×"))
    pipeline = results["pipeline"]
    checks.append(("no-op dvc repro ≤ 1.2× dvc status", pipeline["no-op dvc repro"]["vs_floor"] <= 1.2,
                   f"{pipeline['no-op dvc repro']['vs_floor']}×"))
    reran = pipeline["dvc exp run -S lr=0.001"]["stages_run"]
    checks.append(("dvc exp run -S lr=0.001 reruns only lr's stages", reran == ["check_params", "evaluate", "gd"],
                   ", ".join(reran)))
    scale = {row["rows"]: row for row in results.get("scale", [])}
    if 10**6 in scale and 10**5 in scale:
        big, mid = scale[10**6], scale[10**5]
        checks.append(("10^6 rows end to end < 60 s", big["dvc_repro_seconds"] < 60, f"{big['dvc_repro_seconds']} s"))
        peak = max(big["peak_stage_mib"], big["dvc_repro_peak_mib"])
        checks.append(("10^6 rows peak memory < 2 GiB", peak < 2048, f"{peak} MiB"))
        growth = big["dvc_repro_seconds"] / mid["dvc_repro_seconds"]
        checks.append(("10^6 rows ≤ 12× the 10^5 run's time", growth <= 12, f"{growth:.1f}×"))
    return [{"target": name, "met": bool(met), "measured": value} for name, met, value in checks]


def markdown(results):
    m = results["machine"]
    repeats = "a quick run" if results["quick"] else f"medians of {results['repeats']} repeats"
    lines = [f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, {repeats}.", ""]
    lines += ["| target | met | measured |", "|---|---|---|"]
    lines += [f"| {t['target']} | {'yes' if t['met'] else '**no**'} | {t['measured']} |" for t in results["targets"]]
    lines += ["", "KNN queries per second (3 neighbours):", "",
              "| training rows | tutorial (sort per query) | k-d tree | speed-up |", "|---|---|---|---|"]
    lines += [f"| {r['train_rows']:,} | {r['tutorial_qps']:,} | {r['ours_qps']:,} | {r['speedup']:,}× |"
              for r in results["knn"]]
    gd = results["gd"]
    lines += ["", f"Gradient descent at lr {gd['learning_rate']} (Boston train split; lstsq loss "
                  f"{gd['lstsq_loss']:.4f}; condition number {gd['condition_number']['raw']:,} raw, "
                  f"{gd['condition_number']['standardized']} standardised):", "",
              "| feature | steps to lstsq loss (rel 1e-9) | time | loss gap after the tutorial's 2000 steps |",
              "|---|---|---|---|"]
    for label in ("raw", "standardized"):
        r = gd[label]
        lines.append(f"| {label} | {r['steps_to_lstsq'] if r['steps_to_lstsq'] is not None else '> 400,000'} | "
                     f"{r['seconds']} s | {r['gap_after_2000_steps']:.2e} |")
    lines += ["", f"Sigmoid net (2000 full-batch steps, lr 0.3) against MLPRegressor (adam) on the test split; "
                  f"least squares: MSE {results['net']['least_squares_mse']}:", "",
              "| hidden units | net MSE | MLP MSE | MSE ratio | net fit | MLP fit | time ratio |",
              "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['hidden']} | {r['ours_mse']} | {r['mlp_mse']} | {r['mse_ratio']} | {r['ours_s']} s | "
              f"{r['mlp_s']} s | {r['time_ratio']} |" for r in results["net"]["rows"]]
    lines += ["", "Pipeline on the Boston data:", "", "| command | time | vs `dvc status` | stages run |",
              "|---|---|---|---|"]
    lines += [f"| `{name}` | {r['seconds']} s | {r['vs_floor']}× | {', '.join(r['stages_run']) or '–'} |"
              for name, r in results["pipeline"].items()]
    if results.get("scale"):
        names = list(results["scale"][0]["stages"])
        lines += ["", "Scale (synthetic data, `net.batch_size: 512`): seconds and peak MiB per stage, run alone; "
                      "`dvc repro` end to end:", "",
                  "| rows | dvc repro | " + " | ".join(names) + " |", "|---" * (len(names) + 2) + "|"]
        for row in results["scale"]:
            cells = [f"{row['stages'][n]['seconds']} s / {row['stages'][n]['peak_mib']}" for n in names]
            lines.append(f"| {row['rows']:,} | {row['dvc_repro_seconds']} s | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"date": datetime.date.today().isoformat(), "cpu": cpu, "cores": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one repeat and no 10^6-row run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats

    results = {"machine": machine(), "quick": args.quick, "repeats": repeats}
    for name, function in (("knn", bench_knn), ("gd", bench_gd), ("net", bench_net)):
        print(f"bench: {name} ...", flush=True)
        results[name] = function(repeats)
    with tempfile.TemporaryDirectory() as workdir:
        print("bench: pipeline ...", flush=True)
        results["pipeline"] = bench_pipeline(repeats, workdir)
    with tempfile.TemporaryDirectory() as workdir:
        sizes = (10**4, 10**5) if args.quick else (10**4, 10**5, 10**6)
        print(f"bench: scale {sizes} ...", flush=True)
        results["scale"] = bench_scale(sizes, workdir)
    results["targets"] = targets(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    args.out.with_suffix(".md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
