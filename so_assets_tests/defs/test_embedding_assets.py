"""Embedding assets in a Dagster run: one file per partition and kind, rewritten only as asked."""

from __future__ import annotations

import dagster as dg
import h5py

from so_assets.defs.embeddings import (
    embedding_analysis,
    question_embedding_partitions,
    tag_embeddings,
)
from so_assets.defs.ingestion import questions, raw_questions
from so_assets.defs.resources import EncoderResource, SourceResource, StorageResource

ALL = [raw_questions, questions, question_embedding_partitions, tag_embeddings,
       embedding_analysis]
DAYS = ("2024-03-01", "2024-03-02")


def test_embedding_assets_write_partition_files_and_skip_unchanged_days(tmp_path):
    resources = {"storage": StorageResource(data_dir=str(tmp_path)),
                 "source": SourceResource(kind="sample"),
                 "encoder": EncoderResource(batch_tokens=4096)}
    job = dg.Definitions(assets=ALL, resources=resources).resolve_implicit_global_asset_job_def()
    instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, tags={
        "dagster/asset_partition_range_start": DAYS[0],
        "dagster/asset_partition_range_end": DAYS[1]})
    assert result.success
    slug = EncoderResource().config().slug()
    root = tmp_path / "embeddings" / slug
    for kind, dims in (("question_embeddings", {"title": 2, "body": 2}),
                       ("question_token_embeddings", {"title": 3, "body": 3})):
        assert sorted(p.stem for p in (root / kind).glob("*.h5")) == list(DAYS)
        with h5py.File(root / kind / f"{DAYS[0]}.h5") as h5:
            assert {name: h5[name].ndim for name in dims} == dims
    with h5py.File(root / "tags.h5") as h5:
        assert h5["vector"].shape[0] >= 40
    assert (tmp_path / "reports" / "embeddings" / "pca_cumulative_variance.png").exists()

    stamps = {d: (root / "question_embeddings" / f"{d}.h5").stat().st_mtime_ns for d in DAYS}
    rerun = dg.materialize([question_embedding_partitions], partition_key=DAYS[1],
                           resources=resources, instance=instance,
                           selection=["question_embeddings"],
                           run_config={"ops": {"question_embedding_partitions": {
                               "config": {"force": True}}}})
    assert rerun.success
    now = {d: (root / "question_embeddings" / f"{d}.h5").stat().st_mtime_ns for d in DAYS}
    assert now[DAYS[0]] == stamps[DAYS[0]] and now[DAYS[1]] != stamps[DAYS[1]]
    untouched = dg.materialize([question_embedding_partitions], partition_key=DAYS[0],
                               resources=resources, instance=instance)
    metadata = untouched.asset_materializations_for_node("question_embedding_partitions")
    assert {m.metadata["partitions_unchanged"].value for m in metadata} == {1}
