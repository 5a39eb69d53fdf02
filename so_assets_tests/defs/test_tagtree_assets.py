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
from so_assets.defs.tagtree import tag_clustering_report, tag_labels, tag_tree

ASSETS = [raw_questions, questions, question_embedding_partitions, tag_embeddings,
          embedding_analysis, tag_tree, tag_labels, tag_clustering_report]


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
                                                    "max_leaf_size": 5}}}})
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
        targets = dict(con.execute("SELECT orphan_tag, kept_tag FROM tag_imputation").fetchall())
        assert set(targets) == all_tags - kept and set(targets.values()) <= kept
        counts = dict(con.execute("SELECT tag, count(*) FROM (SELECT unnest(tags) tag "
                                  "FROM questions) GROUP BY 1").fetchall())
        assert all(counts[t] >= 5 for t in kept) and all(counts[t] < 5 for t in targets)
        assert con.execute("SELECT count(*) FROM tag_labels WHERE len(cluster_labels) = 0 "
                           "AND question_id IN (SELECT question_id FROM questions "
                           "WHERE len(tags) > 0)").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM tag_labels").fetchall() == con.execute(
            "SELECT count(*) FROM questions").fetchall()
    exported = json.loads((tmp_path / "tag_tree" / "tag_tree.json").read_text())
    assert set(exported["tag_paths"]) == kept
    report = (tmp_path / "reports" / "tag_clustering" / "tag_clustering_report.md").read_text()
    for name in ("recursive spherical k-means", "KMeans", "Birch", "Agglomerative", "HDBSCAN",
                 "Dual-encoder matcher"):
        assert name in report
