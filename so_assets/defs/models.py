"""dataset_splits, one tag_model_<name> asset per registered model, and the evaluation report."""

import json

import dagster as dg
import pyarrow as pa

from so_assets.defs.resources import EncoderResource, StorageResource
from so_assets.defs.tagtree import tag_labels
from so_assets.embedding.question_vectors import TOKENS, VECTORS
from so_assets.embedding.tag_vectors import tag_vectors_path
from so_assets.evaluation.plots import inline_markdown_image
from so_assets.evaluation.tag_metrics import multilabel_metrics
from so_assets.evaluation.tag_report import (
    ModelResult,
    bucket_labels,
    evaluate_model,
    most_frequent_baseline,
    render_report,
)
from so_assets.models.artifacts import current_dir
from so_assets.models.assemble import assemble
from so_assets.models.registry import MODEL_SPECS, ModelSpec, load_predictor
from so_assets.models.sequence import load_tokens
from so_assets.models.training import train_and_publish
from so_assets.storage.embedding_store import EmbeddingStore
from so_assets.storage.splits import assign_splits


class SplitConfig(dg.Config):
    train_percent: int = 80
    validation_percent: int = 10


@dg.asset(deps=[tag_labels], pool="duckdb", group_name="models", kinds={"duckdb"})
def dataset_splits(config: SplitConfig, storage: StorageResource) -> dg.MaterializeResult:
    """Train / validation / test by md5 of each content group's smallest question id: stable as
    partitions arrive, and duplicates (same title and body) never straddle splits."""
    counts = assign_splits(storage.question_store(), config.train_percent,
                           config.validation_percent)
    return dg.MaterializeResult(metadata={"dagster/row_count": sum(counts.values()), **counts})


def _data(storage: StorageResource, encoder: EncoderResource):
    slug = encoder.config().slug()
    return assemble(storage.question_store(), EmbeddingStore(storage.embeddings_dir, slug),
                    tag_vectors_path(storage.embeddings_dir, slug))


def model_asset(spec: ModelSpec) -> tuple[dg.AssetsDefinition, dg.AssetChecksDefinition]:
    """The asset that trains ``spec`` and its baseline check."""
    deps = [dataset_splits, VECTORS] + ([TOKENS] if spec.family == "sequence_dsf" else [])
    kind = {"tfidf_linear": "scikitlearn", "xgboost": "xgboost"}.get(spec.family, "pytorch")

    @dg.asset(name=f"tag_model_{spec.name}", deps=deps, group_name="models", kinds={kind},
              description=spec.description)
    def train(context: dg.AssetExecutionContext, storage: StorageResource,
              encoder: EncoderResource) -> dg.MaterializeResult:
        data, _ = _data(storage, encoder)
        _, metrics = train_and_publish(spec, data, storage.models_dir,
                                       encoder.config().__dict__, context.log)
        folder = current_dir(storage.models_dir, spec.name)
        curve = folder / "training_curve.png"
        validation = metrics["validation"]
        return dg.MaterializeResult(metadata={
            "params": dg.MetadataValue.json(spec.params),
            "validation_micro_f1": validation["micro_f1"],
            "validation_weighted_f1": validation["weighted_f1"],
            "validation_P@1": validation.get("P@1", 0.0),
            "baseline_validation_micro_f1": metrics["baseline_validation_micro_f1"],
            "threshold_rule": metrics["threshold_rule"],
            "train_seconds": round(metrics["train_seconds"], 2),
            "peak_rss_mb": round(metrics["peak_rss_mb"], 1),
            "train_questions": metrics["train_questions"],
            "artifacts": dg.MetadataValue.path(str(folder)),
            **({"training_curve": dg.MetadataValue.md(inline_markdown_image(curve, "curve"))}
               if curve.exists() else {}),
        })

    @dg.asset_check(asset=train, name="beats_most_frequent_baseline")
    def beats_baseline(storage: StorageResource) -> dg.AssetCheckResult:
        metrics = json.loads((current_dir(storage.models_dir, spec.name) / "metrics.json"
                              ).read_text())
        ours = metrics["validation"]["micro_f1"]
        baseline = metrics["baseline_validation_micro_f1"]
        return dg.AssetCheckResult(passed=ours > baseline, metadata={
            "validation_micro_f1": ours, "most_frequent_labels_micro_f1": baseline})

    return train, beats_baseline


MODEL_ASSETS = [model_asset(spec) for spec in MODEL_SPECS]


@dg.asset(deps=[a for a, _ in MODEL_ASSETS], pool="duckdb", group_name="models",
          kinds={"matplotlib", "duckdb"})
def tag_evaluation_report(context: dg.AssetExecutionContext, storage: StorageResource,
                          encoder: EncoderResource) -> dg.MaterializeResult:
    """Every model on the same test split: F1 variants, precision/recall, Hamming loss, P@k,
    R@5, nDCG@5, recall by frequency bucket, per-label table, confusion matrix, cost."""
    data, test = _data(storage, encoder)
    buckets = bucket_labels(data.train)
    tokens = None
    results = []
    baseline_scores, baseline_predicted = most_frequent_baseline(data.train, test)
    results.append(ModelResult("most_frequent_baseline", multilabel_metrics(
        test.clusters, baseline_scores, baseline_predicted, buckets), baseline_scores,
        baseline_predicted, "the most frequent training clusters", 0.0, 0.0, float("inf")))
    for spec in MODEL_SPECS:
        folder = current_dir(storage.models_dir, spec.name)
        predictor = load_predictor(folder)
        metrics = json.loads((folder / "metrics.json").read_text())
        if predictor.needs_tokens and tokens is None:
            tokens = load_tokens(data, test)
        inputs = data.inputs(test, tokens if predictor.needs_tokens else None)
        results.append(evaluate_model(spec.name, predictor, inputs, test, buckets,
                                      metrics["train_seconds"], metrics["peak_rss_mb"]))
    out_dir = storage.reports_dir / "tag_evaluation"
    markdown, plots = render_report(results, test, data.train, data.labels.cluster_names,
                                    out_dir)
    report = out_dir / "tag_evaluation_report.md"
    report.write_text(markdown)
    _store_metrics(storage, results)
    embedded = markdown.split("## Plots")[0] + "\n".join(
        inline_markdown_image(p, n) for n, p in plots.items())
    best = max((r for r in results if r.name != "most_frequent_baseline"),
               key=lambda r: r.metrics["micro_f1"])
    context.log.info("tag evaluation report written to %s; best: %s", report, best.name)
    return dg.MaterializeResult(metadata={
        "report": dg.MetadataValue.md(embedded),
        "path": dg.MetadataValue.path(str(report)),
        "best_model": best.name, "best_micro_f1": best.metrics["micro_f1"],
        "test_questions": len(test),
    })


def _store_metrics(storage: StorageResource, results: list[ModelResult]) -> None:
    rows = [(r.name, "clusters", k, v) for r in results for k, v in r.metrics.items()]
    rows += [(r.name, "tags", k, v) for r in results for k, v in r.tag_metrics.items()]
    table = pa.table({"model": [r[0] for r in rows], "level": [r[1] for r in rows],
                      "metric": [r[2] for r in rows], "value": [float(r[3]) for r in rows]})
    with storage.question_store().connect() as con:
        con.register("incoming", table)
        con.execute("CREATE OR REPLACE TABLE tag_model_metrics AS SELECT * FROM incoming")
