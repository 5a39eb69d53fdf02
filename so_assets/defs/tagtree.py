"""tag_tree, tag_labels and tag_clustering_report."""

import dagster as dg

from so_assets.defs.conditions import on_cadence
from so_assets.defs.config import params_config, params_of
from so_assets.defs.embeddings import tag_embeddings
from so_assets.defs.metadata import result_metadata
from so_assets.defs.placement import WRITES_DUCKDB
from so_assets.defs.resources import EncoderResource, StorageResource
from so_assets.defs.splits import dataset_splits
from so_assets.steps import tag_clustering
from so_assets.steps import tagtree as steps
from so_assets.storage.embedding_kinds import VECTORS

TagTreeConfig = params_config(steps.TagTreeParams(), "TagTreeConfig")
TagClusteringConfig = params_config(tag_clustering.TagClusteringParams(), "TagClusteringConfig")


@dg.asset(deps=[tag_embeddings, dataset_splits, VECTORS], **WRITES_DUCKDB, group_name="tag_tree",
          kinds={"duckdb", "hdf5"}, automation_condition=on_cadence())
def tag_tree(context: dg.AssetExecutionContext, config: TagTreeConfig, storage: StorageResource,
             encoder: EncoderResource) -> dg.MaterializeResult:
    """Every tag's vector (name blended with its usage on training questions), the kept tags
    (by training questions) and over them the recursive spherical k-means: depth-1 label
    clusters, every node's members, mean direction, representatives and path codes."""
    result = steps.tag_tree(storage.stores(encoder), params_of(config, steps.TagTreeParams),
                                  context.log)
    return dg.MaterializeResult(metadata=result_metadata(result))


@dg.asset(deps=[tag_tree], **WRITES_DUCKDB, group_name="tag_tree", kinds={"duckdb"},
          automation_condition=on_cadence())
def tag_labels(context: dg.AssetExecutionContext, storage: StorageResource,
               encoder: EncoderResource) -> dg.MaterializeResult:
    """Orphan tags imputed to their nearest kept tag (cosine stored); every question's tag
    labels (its kept tags and the orphans on tag_tree's min_label_count training questions,
    which are labels of their own) and cluster labels (orphan-only questions take their tags'
    imputed targets)."""
    result = steps.tag_labels(storage.stores(encoder), context.log)
    return dg.MaterializeResult(metadata={"dagster/row_count": result.questions,
                                          **result_metadata(result)})


@dg.asset(deps=[tag_labels, VECTORS], **WRITES_DUCKDB, group_name="tag_tree",
          kinds={"scikitlearn", "matplotlib"}, automation_condition=on_cadence())
def tag_clustering_report(context: dg.AssetExecutionContext, config: TagClusteringConfig,
                          storage: StorageResource, encoder: EncoderResource
                          ) -> dg.MaterializeResult:
    """Recursive spherical k-means against KMeans, Birch, Agglomerative, HDBSCAN and the seed's
    PCA -> UMAP -> HDBSCAN (searched by Optuna) on the same kept-tag vectors, and the
    dual-encoder matcher's hit rates on labelled questions."""
    result = tag_clustering.tag_clustering_report(
        storage.stores(encoder), params_of(config, tag_clustering.TagClusteringParams),
        context.log)
    return dg.MaterializeResult(metadata=result_metadata(result))
