"""tag_tree, tag_labels and tag_clustering_report."""

import json
import time

import dagster as dg
import numpy as np

from so_assets.defs.embeddings import tag_embeddings
from so_assets.defs.resources import EncoderResource, StorageResource
from so_assets.embedding.question_vectors import VECTORS
from so_assets.embedding.tag_vectors import load_tag_vectors, tag_vectors_path
from so_assets.evaluation.clustering_comparison import (
    compare_clusterings,
    comparison_markdown,
    render_comparison,
)
from so_assets.evaluation.plots import inline_markdown_image
from so_assets.storage.embedding_store import EmbeddingStore
from so_assets.storage.tag_tables import (
    iter_question_tags,
    read_cluster_means,
    read_tree_tags,
    write_labels,
    write_tree,
)
from so_assets.tagtree.imputation import impute_orphans
from so_assets.tagtree.matcher import DualEncoderMatcher
from so_assets.tagtree.tree import build_tag_tree


class TagTreeConfig(dg.Config):
    n_clusters: int = 100
    """Depth-1 label clusters (clamped to the number of kept tags)."""
    branching: int = 6
    """Children of every node split below depth 1."""
    max_leaf_size: int = 12
    """Nodes with more tags than this are split again..."""
    max_depth: int = 4
    """...while shallower than this."""
    min_tag_count: int = 100
    """Tags used by fewer questions are orphans, imputed to their nearest kept tag."""
    random_state: int = 0


def _tag_inputs(storage: StorageResource, encoder: EncoderResource):
    counts = dict(storage.question_store().tag_counts())
    stored = load_tag_vectors(tag_vectors_path(storage.embeddings_dir, encoder.config().slug()))
    index = stored.lookup()
    if missing := [t for t in counts if t not in index]:
        raise ValueError(f"{len(missing)} tags have no vector (e.g. {missing[:3]}): "
                         "materialize tag_embeddings first")
    tags = list(counts)
    return tags, stored.vectors[[index[t] for t in tags]], np.array([counts[t] for t in tags])


@dg.asset(deps=[tag_embeddings], pool="duckdb", group_name="tag_tree", kinds={"duckdb"})
def tag_tree(context: dg.AssetExecutionContext, config: TagTreeConfig, storage: StorageResource,
             encoder: EncoderResource) -> dg.MaterializeResult:
    """Recursive spherical k-means over the kept tags' vectors: depth-1 label clusters, every
    node's members, mean direction, representative and popular tags, every tag's path code."""
    tags, vectors, counts = _tag_inputs(storage, encoder)
    kept = counts >= config.min_tag_count
    if not kept.any():
        raise ValueError(f"no tag reaches min_tag_count={config.min_tag_count} (most used: "
                         f"{counts.max()}); lower it in the run config")
    started = time.perf_counter()
    tree = build_tag_tree([t for t, k in zip(tags, kept, strict=True) if k], vectors[kept],
                          counts[kept], n_clusters=config.n_clusters, branching=config.branching,
                          max_leaf_size=config.max_leaf_size, max_depth=config.max_depth,
                          random_state=config.random_state)
    seconds = time.perf_counter() - started
    for note in tree.notes:
        context.log.warning(note)
    write_tree(storage.question_store(), tree, config.min_tag_count)
    export = storage.root / "tag_tree" / "tag_tree.json"
    export.parent.mkdir(parents=True, exist_ok=True)
    export.write_text(json.dumps({"params": config.model_dump(), "build_seconds": seconds,
                                  **tree.to_json()}, indent=1))
    rows = "\n".join(f"| {c.path[0]} | {c.representative} | {c.size} | {', '.join(c.popular)} |"
                     for c in tree.clusters[:30])
    return dg.MaterializeResult(metadata={
        "kept_tags": int(kept.sum()), "orphan_tags": int((~kept).sum()),
        "clusters": len(tree.clusters), "clusters_requested": config.n_clusters,
        "notes": dg.MetadataValue.json(tree.notes),
        "nodes": len(tree.nodes), "max_depth": max(n.depth for n in tree.nodes),
        "build_seconds": round(seconds, 2),
        "clusters_table": dg.MetadataValue.md(
            "| cluster | representative | tags | most popular |\n|---|---|---|---|\n" + rows),
        "json": dg.MetadataValue.path(str(export)),
    })


@dg.asset(deps=[tag_tree], pool="duckdb", group_name="tag_tree", kinds={"duckdb"})
def tag_labels(context: dg.AssetExecutionContext, storage: StorageResource,
               encoder: EncoderResource) -> dg.MaterializeResult:
    """Orphan tags imputed to their nearest kept tag (cosine stored); every question's kept-tag
    set and cluster label set (orphan-only questions take their tags' imputed targets)."""
    store = storage.question_store()
    tags, vectors, counts = _tag_inputs(storage, encoder)
    paths, min_tag_count = read_tree_tags(store)
    imputation = impute_orphans(tags, vectors, counts, min_tag_count)
    cluster_of = {tag: path[0] for tag, path in paths.items()}
    stats = {"questions": 0, "imputed_only": 0, "unlabelled": 0}

    def labels():
        for batch in iter_question_tags(store):
            for question_id, question_tags in batch:
                kept, clusters, imputed = imputation.labels_for(question_tags, cluster_of)
                stats["questions"] += 1
                stats["imputed_only"] += imputed
                stats["unlabelled"] += not clusters
                yield question_id, kept, clusters, imputed

    written = write_labels(store, imputation, dict(zip(tags, counts.tolist(), strict=True)),
                           labels())
    frequent = sorted(imputation.orphan_target, key=lambda t: -counts[tags.index(t)])[:15]
    context.log.info("labelled %d questions (%d only through imputed tags)", written,
                     stats["imputed_only"])
    return dg.MaterializeResult(metadata={
        "dagster/row_count": written, **stats,
        "kept_tags": len(imputation.kept), "orphan_tags": len(imputation.orphan_target),
        "most_used_orphans": dg.MetadataValue.md(
            "| orphan | -> kept tag | cosine |\n|---|---|---|\n" + "\n".join(
                f"| {t} | {imputation.orphan_target[t]} | "
                f"{imputation.orphan_similarity[t]:.2f} |" for t in frequent)),
    })


@dg.asset(deps=[tag_labels, VECTORS], pool="duckdb", group_name="tag_tree",
          kinds={"scikitlearn", "matplotlib"})
def tag_clustering_report(context: dg.AssetExecutionContext, storage: StorageResource,
                          encoder: EncoderResource) -> dg.MaterializeResult:
    """Recursive spherical k-means against KMeans, Birch, Agglomerative and HDBSCAN on the same
    kept-tag vectors, and the dual-encoder matcher's hit rates on labelled questions."""
    store = storage.question_store()
    exported = json.loads((storage.root / "tag_tree" / "tag_tree.json").read_text())
    params = exported["params"]
    tags, vectors, counts = _tag_inputs(storage, encoder)
    kept = counts >= params["min_tag_count"]
    kept_tags = [t for t, k in zip(tags, kept, strict=True) if k]
    started = time.perf_counter()
    tree = build_tag_tree(kept_tags, vectors[kept], counts[kept], n_clusters=params["n_clusters"],
                          branching=params["branching"], max_leaf_size=params["max_leaf_size"],
                          max_depth=params["max_depth"], random_state=params["random_state"])
    tree_seconds = time.perf_counter() - started
    cluster_of = tree.cluster_of()
    results = compare_clusterings(vectors[kept], kept_tags, counts[kept],
                                  np.array([cluster_of[t] for t in kept_tags]), tree_seconds,
                                  len(tree.clusters))
    out_dir = storage.reports_dir / "tag_clustering"
    plots = render_comparison(results, out_dir)
    matcher_md = _matcher_section(store, storage, encoder)
    table = comparison_markdown(results, len(kept_tags))
    report = out_dir / "tag_clustering_report.md"
    report.write_text("# Tag clustering comparison\n\n" + table + "\n" + matcher_md + "\n" +
                      "\n".join(f"![{n}]({p.name})" for n, p in plots.items()) + "\n")
    context.log.info("clustering comparison written to %s", report)
    return dg.MaterializeResult(metadata={
        "report": dg.MetadataValue.md(table + "\n" + matcher_md + "\n" + "\n\n".join(
            inline_markdown_image(p, n) for n, p in plots.items())),
        "path": dg.MetadataValue.path(str(report)),
        **{f"silhouette_{r.name.split(' (')[0].replace(' ', '_').lower()}": r.silhouette
           for r in results if r.silhouette is not None},
    })


def _matcher_section(store, storage: StorageResource, encoder: EncoderResource) -> str:
    names, means = read_cluster_means(store)
    matcher = DualEncoderMatcher.from_means(names, means)
    with store.connect(read_only=True) as con:
        labels = dict(con.execute("SELECT question_id, cluster_labels FROM tag_labels "
                                  "WHERE len(cluster_labels) > 0").fetchall())
    vectors = EmbeddingStore(storage.embeddings_dir, encoder.config().slug())
    hit1 = hit5 = seen = 0
    for ids, arrays in vectors.iter_batches(VECTORS, ["title", "body"], question_ids=labels):
        top = matcher.top_k(arrays["title"], arrays["body"], 5)
        for question_id, ranked in zip(ids, top, strict=True):
            truth = set(labels[int(question_id)])
            hit1 += ranked[0] in truth
            hit5 += bool(truth & set(ranked.tolist()))
            seen += 1
    if not seen:
        return "Dual-encoder matcher: no embedded, labelled questions yet.\n"
    return (f"Dual-encoder matcher (no training, cosine to cluster means) on {seen:,} labelled "
            f"questions: a true cluster ranked first for {hit1 / seen:.1%}, among the top 5 for "
            f"{hit5 / seen:.1%}.\n")
