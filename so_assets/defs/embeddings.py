"""Question and tag embeddings in HDF5, and their analysis."""

from datetime import date

import dagster as dg

from so_assets.defs.conditions import on_cadence, per_day
from so_assets.defs.config import params_config, params_of
from so_assets.defs.ingestion import questions
from so_assets.defs.metadata import add_partition_metadata, result_metadata
from so_assets.defs.partitions import daily_partitions
from so_assets.defs.placement import EMBEDS
from so_assets.defs.resources import EncoderResource, StorageResource
from so_assets.steps import embeddings as steps
from so_assets.storage.embedding_kinds import TOKENS, VECTORS

EmbeddingConfig = params_config(steps.EmbeddingParams(), "EmbeddingConfig")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(VECTORS, deps=[questions], kinds={"hdf5", "pytorch"},
                     automation_condition=per_day(),
                     description="Per day: question_id, title [n, d] and body [n, d] unit "
                                 "vectors."),
        dg.AssetSpec(TOKENS, deps=[questions], kinds={"hdf5", "pytorch"},
                     automation_condition=per_day(),
                     description="Per day: title [n, 4, d] and body [n, 32, d] chunk-mean "
                                 "token-state sequences with masks."),
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    can_subset=True,
    **EMBEDS,
    group_name="embeddings",
)
def question_embedding_partitions(context: dg.AssetExecutionContext, config: EmbeddingConfig,
                                  storage: StorageResource, encoder: EncoderResource):
    """Embed each day's titles and bodies; one forward pass feeds both assets. A day whose file
    already holds the same texts under the same encoder is not embedded again."""
    kinds = {key.path[-1] for key in context.selected_asset_keys}
    days = [date.fromisoformat(key) for key in context.partition_keys]
    result = steps.embed_questions(storage.stores(encoder), encoder.config(), days, kinds,
                                   params_of(config, steps.EmbeddingParams), context.log)
    for kind in sorted(kinds):
        add_partition_metadata(context, {"dagster/row_count": result.rows_per_day(kind)},
                               asset_key=kind)
        yield dg.MaterializeResult(asset_key=kind,
                                   metadata=result_metadata(result.summary(kind)))


@dg.asset(deps=[questions], group_name="embeddings", kinds={"hdf5", "pytorch"}, **EMBEDS)
def tag_embeddings(context: dg.AssetExecutionContext, storage: StorageResource,
                   encoder: EncoderResource) -> dg.MaterializeResult:
    """One vector per distinct tag; only tags not embedded yet are encoded."""
    result = steps.embed_tags(storage.stores(encoder), encoder.config(), context.log)
    return dg.MaterializeResult(metadata=result_metadata(result))


@dg.asset(deps=[VECTORS], group_name="embeddings", kinds={"hdf5", "matplotlib"},
          automation_condition=on_cadence())
def embedding_analysis(storage: StorageResource, encoder: EncoderResource
                       ) -> dg.MaterializeResult:
    """Nearest-neighbour cosine distribution and PCA cumulative explained variance of the
    title and body vectors (samples when large), as plots and numbers."""
    result = steps.embedding_analysis(storage.stores(encoder))
    return dg.MaterializeResult(metadata=result_metadata(result))
