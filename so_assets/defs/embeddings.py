"""Question and tag embeddings in HDF5, and their analysis."""

from datetime import date

import dagster as dg
import numpy as np

from so_assets.defs.ingestion import questions
from so_assets.defs.partitions import daily_partitions
from so_assets.defs.resources import EncoderResource, StorageResource
from so_assets.embedding.question_vectors import (
    TOKENS,
    VECTORS,
    QuestionTexts,
    embed_partition,
)
from so_assets.embedding.tag_vectors import tag_vectors_path, update_tag_vectors
from so_assets.evaluation.embedding_analysis import analyse_field, render_analysis
from so_assets.evaluation.plots import inline_markdown_image
from so_assets.storage.embedding_store import EmbeddingStore


class EmbeddingConfig(dg.Config):
    force: bool = False
    """Re-embed even when a partition's file already holds the same texts under this encoder."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(VECTORS, deps=[questions], kinds={"hdf5", "pytorch"},
                     description="Per day: question_id, title [n, d] and body [n, d] unit "
                                 "vectors."),
        dg.AssetSpec(TOKENS, deps=[questions], kinds={"hdf5", "pytorch"},
                     description="Per day: title [n, 4, d] and body [n, 32, d] chunk-mean "
                                 "token-state sequences with masks."),
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=True,
    group_name="embeddings",
)
def question_embedding_partitions(context: dg.AssetExecutionContext, config: EmbeddingConfig,
                                  storage: StorageResource, encoder: EncoderResource):
    """Embed each day's titles and bodies; one forward pass feeds both assets. A day whose file
    already holds the same texts under the same encoder is not embedded again."""
    kinds = {key.path[-1] for key in context.selected_asset_keys}
    model = encoder.encoder(context.log)
    store = EmbeddingStore(storage.embeddings_dir, model.slug)
    question_store = storage.question_store()
    writes = []
    for key in context.partition_keys:
        day = date.fromisoformat(key)
        ids, titles, bodies = question_store.question_texts(day)
        if empty := sum(1 for b in bodies if not b.strip()):
            context.log.warning("%s: %d questions have an empty body; their body vectors encode "
                                "an empty text", day, empty)
        writes += embed_partition(model, store, day, QuestionTexts(ids, titles, bodies), kinds,
                                  force=config.force)
    for kind in sorted(kinds):
        mine = [w for w in writes if w.kind == kind]
        yield dg.MaterializeResult(asset_key=kind, metadata={
            "encoder_slug": model.slug,
            "device": str(model.device),
            "questions": sum(w.questions for w in mine),
            "partitions_written": sum(w.status == "written" for w in mine),
            "partitions_unchanged": sum(w.status == "unchanged" for w in mine),
            "folder": dg.MetadataValue.path(str(store.root / model.slug / kind)),
        })


@dg.asset(deps=[questions], group_name="embeddings", kinds={"hdf5", "pytorch"})
def tag_embeddings(context: dg.AssetExecutionContext, storage: StorageResource,
                   encoder: EncoderResource) -> dg.MaterializeResult:
    """One vector per distinct tag; only tags not embedded yet are encoded."""
    model = encoder.encoder(context.log)
    tags = [tag for tag, _ in storage.question_store().tag_counts()]
    path = tag_vectors_path(storage.embeddings_dir, model.slug)
    stored, new = update_tag_vectors(model, path, tags)
    return dg.MaterializeResult(metadata={
        "encoder_slug": model.slug, "tags": len(stored.tags), "newly_embedded": new,
        "path": dg.MetadataValue.path(str(path)),
    })


@dg.asset(deps=[VECTORS], group_name="embeddings", kinds={"hdf5", "matplotlib"})
def embedding_analysis(context: dg.AssetExecutionContext, storage: StorageResource,
                       encoder: EncoderResource) -> dg.MaterializeResult:
    """Nearest-neighbour cosine distribution and PCA cumulative explained variance of the
    title and body vectors (samples when large), as plots and numbers."""
    store = EmbeddingStore(storage.embeddings_dir, encoder.config().slug())
    fields = [analyse_field(store, VECTORS, name) for name in ("title", "body")]
    plots = render_analysis(fields, storage.reports_dir / "embeddings")
    numbers = {f"{f.name}_components_for_{int(t * 100)}pct": n
               for f in fields for t, n in f.components_for.items()}
    numbers |= {f"{f.name}_nn_cosine_median": float(np.median(f.nn_cosine)) for f in fields}
    context.log.info("embedding analysis: %s", numbers)
    return dg.MaterializeResult(metadata={
        **numbers,
        "plots": dg.MetadataValue.md("\n\n".join(
            inline_markdown_image(path, name) for name, path in plots.items())),
    })
