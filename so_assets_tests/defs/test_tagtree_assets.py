"""tag_tree, tag_labels and tag_clustering_report in a Dagster run over sample partitions."""

from __future__ import annotations

import json

import dagster as dg
import duckdb

from so_assets.defs.embeddings import (
    embedding_analysis,
    question_embedding_partitions,
    tag_embeddings,
)
from so_assets.defs.ingestion import questions, raw_questions
from so_assets.defs.resources import EncoderResource, SourceResource, StorageResource
from so_assets.defs.splits import dataset_splits
from so_assets.defs.tagtree import tag_clustering_report, tag_labels, tag_tree
from so_assets.storage.stores import Stores
from so_assets.storage.tag_tables import iter_day_question_tags

ASSETS = [raw_questions, questions, question_embedding_partitions, tag_embeddings,
          embedding_analysis, dataset_splits, tag_tree, tag_labels, tag_clustering_report]


def test_sample_tree_labels_and_report(tmp_path):
    resources = {"storage": StorageResource(data_dir=str(tmp_path)),
                 "source": SourceResource(kind="sample"),
                 "encoder": EncoderResource()}
    job = dg.Definitions(assets=ASSETS, resources=resources).resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": "2024-03-01",
              "dagster/asset_partition_range_end": "2024-03-07"},
        run_config={"ops": {"tag_tree": {"config": {"min_tag_count": 5, "n_clusters": 10,
                                                    "max_leaf_size": 5}},
                            "tag_clustering_report": {"config": {"manifold_trials": 4}}}})
    assert result.success
    with duckdb.connect(str(tmp_path / "so_assets.duckdb"), read_only=True) as con:
        kept = {r[0] for r in con.execute("SELECT tag FROM tag_tree_tags").fetchall()}
        depth1 = [t for (members,) in con.execute(
            "SELECT members FROM tag_tree_nodes WHERE depth = 1").fetchall() for t in members]
        assert sorted(depth1) == sorted(kept)  # every kept tag in exactly one label cluster
        assert con.execute("SELECT count(*) FROM tag_tree_nodes WHERE depth = 1"
                           ).fetchall() == [(10,)]
        all_tags = {r[0] for r in con.execute(
            "SELECT DISTINCT unnest(tags) FROM questions").fetchall()}
        orphans = con.execute("SELECT orphan_tag, kept_tag, cosine FROM tag_imputation"
                              ).fetchall()
        targets = {t: k for t, k, _ in orphans if k is not None}
        unmapped = {t: c for t, k, c in orphans if k is None}
        assert {t for t, _, _ in orphans} == all_tags - kept and set(targets.values()) <= kept
        assert all(c < 0.5 for c in unmapped.values())  # the default min_similarity
        # only training questions decide which tags are kept
        train_counts = dict(con.execute(
            "SELECT tag, count(*) FROM (SELECT unnest(tags) tag FROM questions JOIN "
            "dataset_splits USING (question_id) WHERE split = 'train') GROUP BY 1").fetchall())
        assert all(train_counts[t] >= 5 for t in kept)
        assert all(train_counts.get(t, 0) < 5 for t, _, _ in orphans)
        params = json.loads(con.execute("SELECT params FROM tag_tree_params").fetchone()[0])
        assert params["usage_weight"] in (0.0, 0.25, 0.5, 0.75, 1.0)  # chosen on validation
        dropped = con.execute(
            "SELECT count(*) FROM tag_labels JOIN questions USING (question_id) "
            "WHERE len(cluster_labels) = 0 AND len(tags) > 0").fetchone()[0]
        assert dropped == con.execute(
            "SELECT count(DISTINCT question_id) FROM questions WHERE len(tags) > 0 AND "
            "list_has_all(?, tags)", [sorted(unmapped)]).fetchone()[0]
        assert con.execute("SELECT count(*) FROM tag_labels").fetchall() == con.execute(
            "SELECT count(*) FROM questions").fetchall()
    # orphans on 3+ training questions (the default min_label_count) are labels of their own,
    # in the cluster of the kept tag they were imputed to; rarer ones only through that tag
    from so_assets.models.prediction.assemble import current_labels

    labels = current_labels(Stores(tmp_path).questions)
    own = {t for t, k in targets.items() if train_counts.get(t, 0) >= 3}
    assert own and set(labels.tags) == kept | own
    cluster_of = dict(zip(labels.tags, labels.tag_cluster, strict=True))
    assert all(cluster_of[t] == cluster_of[targets[t]] for t in own)
    assert all(labels.tag_paths[labels.tags.index(t)] == labels.tag_paths[
        labels.tags.index(targets[t])] for t in own)
    with duckdb.connect(str(tmp_path / "so_assets.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT q.tags, l.kept_tags FROM questions q JOIN tag_labels l "
                           "USING (question_id)").fetchall()
    for tags, labelled in rows:
        assert set(labelled) >= set(tags) & (kept | own)
        assert set(labelled) <= kept | own  # rarer orphans never label a question themselves
    # the tree reads training questions a day (one partition) at a time, in capped batches
    batches = list(iter_day_question_tags(Stores(tmp_path).questions, "train", batch=3))
    days = [day for day, _ in batches]
    assert days == sorted(days) and len(set(days)) == 7 and all(len(b) <= 3 for _, b in batches)
    with duckdb.connect(str(tmp_path / "so_assets.duckdb"), read_only=True) as con:
        assert sorted(q for _, b in batches for q, _ in b) == [r[0] for r in con.execute(
            "SELECT question_id FROM dataset_splits WHERE split = 'train' ORDER BY 1").fetchall()]
    exported = json.loads((tmp_path / "tag_tree" / "tag_tree.json").read_text())
    assert set(exported["tag_paths"]) == kept
    report = (tmp_path / "reports" / "tag_clustering" / "tag_clustering_report.md").read_text()
    for name in ("recursive spherical k-means", "KMeans", "Birch", "Agglomerative", "HDBSCAN",
                 "Dual-encoder matcher", "members (most used first)", "-&gt; kept tag",
                 "PCA-UMAP-HDBSCAN (Optuna search): the seed's other road", "4 Optuna (TPE) "
                 "trials", "manifold_map.png", r"umap\_neighbors"):
        assert name in report
