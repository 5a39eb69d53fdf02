"""The suggestion service under load: `so-assets serve` against `so-assets predict` per question.

For each tag model the data folder publishes: one-question latency (p50 / p95 / p99 over
sequential HTTP requests on one keep-alive connection) and batched throughput (batches of 64);
then, on the production model, a bounded load test (N concurrent clients for M seconds:
errors, latency under load, questions/s), the service's CPU time and peak RSS, and where one
question's time goes (encoder against model, measured in this process). The alternative, in
the same run: `so-assets predict` as a fresh process per question, as it was the only way to
get tags before the service (wall, CPU and peak RSS per question).

Without a --data-dir that exists it first builds one with `so-assets evaluate` (real
robotics.SE questions when ../shared is there, else the bundled sample). Questions sent are
the data folder's own, newest first.

    bash benchmarks/run.sh       # or: .venv/bin/python benchmarks/serving.py [--data-dir data]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests

REPO = Path(__file__).resolve().parents[1]
REAL = REPO.parent / "shared" / "data" / "real" / "stackexchange-tags-kaggle" / "robotics.csv.zip"
SAMPLE = REPO / "data" / "sample"
BUILT_MODELS = "tfidf_linear,knn_votes,mlp,dsf_mhsa,hybrid,tabular_ridge"
BIN = Path(sys.executable).parent
TARGETS = {"p50_ms": 30.0, "p99_ms": 100.0, "batched_qps": 150.0}


def build_data_dir(out: Path) -> Path:
    """A data folder with published and promoted models, from `so-assets evaluate`."""
    dataset = REAL if REAL.exists() else SAMPLE
    print(f"building a data folder: so-assets evaluate --dataset {dataset.name} --models "
          f"{BUILT_MODELS}", flush=True)
    t0 = time.perf_counter()
    run = subprocess.run([str(BIN / "so-assets"), "evaluate", "--dataset", str(dataset),
                          "--out", str(out), "--models", BUILT_MODELS],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if run.returncode:
        raise SystemExit(f"so-assets evaluate failed:\n{run.stdout[-3000:]}")
    print(f"  built in {time.perf_counter() - t0:.0f} s\n", flush=True)
    return out


def questions_of(data_dir: Path, n: int) -> list[dict[str, str]]:
    """The data folder's newest ``n`` questions as request bodies."""
    import duckdb

    with duckdb.connect(str(data_dir / "so_assets.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT title, body_text FROM questions ORDER BY creation_date DESC, "
                           "question_id DESC LIMIT ?", [n]).fetchall()
    return [{"title": t, "body": b} for t, b in rows]


def served_tag_models(data_dir: Path) -> tuple[str, list[str]]:
    """The production tag model and every published tag model."""
    from so_assets.models.publication.artifacts import published_models
    from so_assets.models.publication.production import read_production
    from so_assets.models.registry import TAG_MODELS

    published = set(published_models(data_dir / "models"))
    names = [s.name for s in TAG_MODELS if s.asset_name in published]
    production = read_production(data_dir / "models")["tag"].name
    return production, [production] + [n for n in names if n != production]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentiles(seconds: list[float]) -> dict[str, float]:
    p50, p95, p99 = np.percentile(np.array(seconds) * 1000, [50, 95, 99])
    return {"p50_ms": float(p50), "p95_ms": float(p95), "p99_ms": float(p99)}


class Service:
    """`so-assets serve` in its own process; CPU and peak RSS read from /proc."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        t0 = time.perf_counter()
        self.process = subprocess.Popen(
            [str(BIN / "so-assets"), "serve", "--data-dir", str(data_dir), "--port",
             str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).ok:
                    break
            except requests.ConnectionError:
                if self.process.poll() is not None:
                    raise SystemExit("so-assets serve exited while starting") from None
                time.sleep(0.2)
        self.start_seconds = time.perf_counter() - t0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc status")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def one_question_latency(url: str, model: str | None, questions: list[dict], n: int
                         ) -> dict[str, float]:
    """Sequential single-question requests on one keep-alive connection (5 warm-ups first)."""
    extra = {} if model is None else {"model": model}
    seconds = []
    with requests.Session() as session:
        for i in range(n + 5):
            t0 = time.perf_counter()
            reply = session.post(f"{url}/v1/suggest", json={**questions[i % len(questions)],
                                                            **extra}, timeout=60)
            reply.raise_for_status()
            if i >= 5:
                seconds.append(time.perf_counter() - t0)
    return percentiles(seconds)


def batched_throughput(url: str, model: str | None, questions: list[dict], batches: int,
                       size: int = 64) -> float:
    """Questions per second over ``batches`` requests of ``size`` questions."""
    extra = {} if model is None else {"model": model}
    with requests.Session() as session:
        session.post(f"{url}/v1/suggest-batch", json={"questions": questions[:size], **extra},
                     timeout=120).raise_for_status()
        t0 = time.perf_counter()
        for b in range(batches):
            start = (b * size) % max(len(questions) - size, 1)
            session.post(f"{url}/v1/suggest-batch", json={
                "questions": questions[start:start + size], **extra},
                timeout=120).raise_for_status()
        return batches * size / (time.perf_counter() - t0)


def load_test(url: str, questions: list[dict], clients: int, seconds: float) -> dict:
    """``clients`` threads, each on its own connection, asking one question at a time."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(offset: int) -> None:
        with requests.Session() as session:
            i = offset
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                try:
                    reply = session.post(f"{url}/v1/suggest", json=questions[i % len(questions)],
                                         timeout=60)
                    ok, what = reply.ok, f"HTTP {reply.status_code}"
                except requests.RequestException as error:
                    ok, what = False, type(error).__name__
                with lock:
                    (latencies.append(time.perf_counter() - t0) if ok else errors.append(what))
                i += clients

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    return {"requests": len(latencies) + len(errors), "errors": len(errors),
            "error_kinds": sorted(set(errors)), "qps": len(latencies) / wall,
            **percentiles(latencies or [0.0])}


def cli_per_question(data_dir: Path, questions: list[dict], n: int) -> dict[str, float]:
    """`so-assets predict` as a fresh process per question: wall, CPU and peak RSS each."""
    walls, cpus, rss = [], [], []
    for question in questions[:n]:
        t0 = time.perf_counter()
        child = subprocess.Popen(
            [str(BIN / "so-assets"), "predict", "--data-dir", str(data_dir), "--title",
             question["title"], "--body", question["body"]], stdout=subprocess.DEVNULL,
            env={**os.environ, "HF_HUB_OFFLINE": "1"})
        _, status, usage = os.wait4(child.pid, 0)  # this child's own CPU and peak RSS
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            raise SystemExit(f"so-assets predict exited with {child.returncode}")
        walls.append(time.perf_counter() - t0)
        cpus.append(usage.ru_utime + usage.ru_stime)
        rss.append(usage.ru_maxrss / 1024)
    return {"wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus),
            "peak_rss_mb": statistics.median(rss)}


def time_split(data_dir: Path, model: str, questions: list[dict], n: int) -> dict[str, float]:
    """Median milliseconds of one question's encoding and of the model's part, in process."""
    from threadpoolctl import threadpool_limits

    from so_assets.models.prediction.predict import encode_questions
    from so_assets.serving.holder import load
    from so_assets.stackexchange.html_text import html_to_text

    loaded = load(data_dir / "models", model)
    threadpool_limits(1, user_api="blas")  # as the service runs
    tag_model = loaded.tag_model
    encode, decide = [], []
    for question in (questions * 2)[: n + 3]:
        t0 = time.perf_counter()
        inputs = encode_questions(loaded.encoder, tag_model.needs, [question["title"]],
                                  [html_to_text(question["body"])])
        t1 = time.perf_counter()
        tag_model.decide(tag_model.predict_scores(inputs))
        encode.append(t1 - t0)
        decide.append(time.perf_counter() - t1)
    return {"encoder_ms": 1000 * statistics.median(encode[3:]),
            "model_ms": 1000 * statistics.median(decide[3:])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path,
                        help="a data folder with promoted models, built there when it does "
                             "not exist (default: built in a temporary folder)")
    parser.add_argument("--requests", type=int, default=200,
                        help="sequential one-question requests per model")
    parser.add_argument("--batches", type=int, default=8, help="batches of 64 per model")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0, help="load test length")
    parser.add_argument("--cli-runs", type=int, default=3,
                        help="`so-assets predict` processes (one question each)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        if not (data_dir / "models").exists():
            build_data_dir(data_dir)
        questions = questions_of(data_dir, 512)
        production, models = served_tag_models(data_dir)
        print(f"Data folder {data_dir}: {len(questions)} of its newest questions sent; "
              f"production tag model {production}; {os.cpu_count()} cores, CPU.\n", flush=True)
        service = Service(data_dir)
        try:
            print(f"service up in {service.start_seconds:.1f} s (load once, warm)\n")
            print(f"{'tag model':<22}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
                  f"{'batched q/s':>13}{'encoder ms':>12}{'model ms':>10}", flush=True)
            figures = {}
            for name in models:
                chosen = None if name == production else name
                latency = one_question_latency(service.url, chosen, questions, args.requests)
                qps = batched_throughput(service.url, chosen, questions, args.batches)
                split = time_split(data_dir, name, questions, 30)
                figures[name] = {**latency, "batched_qps": qps, **split}
                label = f"{name} (production)" if name == production else name
                print(f"{label:<22}{latency['p50_ms']:>8.1f}{latency['p95_ms']:>8.1f}"
                      f"{latency['p99_ms']:>8.1f}{qps:>13.0f}{split['encoder_ms']:>12.1f}"
                      f"{split['model_ms']:>10.1f}", flush=True)
            cpu_before = service.cpu_seconds()
            load = load_test(service.url, questions, args.clients, args.seconds)
            load_cpu = service.cpu_seconds() - cpu_before
            print(f"\nload test, production model: {args.clients} concurrent clients on "
                  f"127.0.0.1 for {args.seconds:.0f} s: {load['requests']} requests, "
                  f"{load['errors']} errors {load['error_kinds'] or ''}, "
                  f"{load['qps']:.0f} questions/s, latency p50 {load['p50_ms']:.0f} ms, "
                  f"p95 {load['p95_ms']:.0f} ms, p99 {load['p99_ms']:.0f} ms; service CPU "
                  f"{1000 * load_cpu / max(load['requests'], 1):.1f} ms per request")
            print(f"service peak RSS {service.peak_rss_mb():.0f} MB (every model above loaded),"
                  f" CPU {service.cpu_seconds():.0f} s in all")
        finally:
            service.stop()
        cli = cli_per_question(data_dir, questions, args.cli_runs)
        best = figures[production]
        print(f"\nso-assets predict, a process per question ({args.cli_runs} runs): wall "
              f"{cli['wall_s']:.1f} s, CPU {cli['cpu_s']:.1f} s, peak RSS "
              f"{cli['peak_rss_mb']:.0f} MB each")
        print(f"service / predict per question: {1000 * cli['wall_s'] / best['p50_ms']:.0f}x "
              f"faster at p50; batched, {best['batched_qps'] * cli['wall_s']:.0f}x the "
              f"questions per second")
        met = {"p50_ms": best["p50_ms"] <= TARGETS["p50_ms"],
               "p99_ms": best["p99_ms"] <= TARGETS["p99_ms"],
               "batched_qps": best["batched_qps"] >= TARGETS["batched_qps"],
               "errors": load["errors"] == 0}
        print("targets (production model, one question: p50 <= 30 ms, p99 <= 100 ms; >= 150 "
              "questions/s batched; 0 errors under load): "
              + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in met.items()))


if __name__ == "__main__":
    main()
