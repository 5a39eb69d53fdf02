"""One asset per registered model with its baseline check, and the reports."""

import dagster as dg

from so_assets.defs.conditions import RUNS_AFTER_FAILED_UPSTREAM, after_upstream, on_cadence
from so_assets.defs.config import params_config
from so_assets.defs.metadata import check_result, result_metadata
from so_assets.defs.placement import TRAINS, WRITES_DUCKDB
from so_assets.defs.resources import EncoderResource, StorageResource
from so_assets.defs.splits import dataset_splits
from so_assets.defs.tagtree import tag_labels, tag_tree
from so_assets.models.core.base import Need, ScoreModel, TagModel
from so_assets.models.registry import MODELS, ModelSpec, is_baseline
from so_assets.steps import models as steps
from so_assets.steps import reports
from so_assets.storage.embedding_kinds import TOKENS, VECTORS

# The asset each input a model can need comes from.
NEED_DEPS = {Need.TOKENS: TOKENS, Need.TAG_VECTORS: tag_tree, Need.TREE: tag_tree}


def _config_name(spec: ModelSpec) -> str:
    return "".join(part.title() for part in spec.asset_name.split("_")) + "Config"


def model_asset(spec: ModelSpec) -> tuple[dg.AssetsDefinition, dg.AssetChecksDefinition | None]:
    """The asset that trains ``spec`` (its inputs from what its class needs; its parameters as
    run config, the registry's values as defaults) and, unless it is its task's baseline
    itself, the check that it beats that baseline. A score model trains nothing when no question
    has a score (a source without scores): it materializes saying so, and its check and the
    score report say so too (no step is skipped: Dagster 1.13's in-process executor can stall
    on a step with both a skipped and a failed upstream)."""
    deps = [dataset_splits, tag_labels, VECTORS,
            *(NEED_DEPS[need] for need in sorted(spec.model.needs))]
    ModelConfig = params_config(spec.params, _config_name(spec))
    scored = issubclass(spec.model, ScoreModel)

    @dg.asset(name=spec.asset_name, deps=deps, group_name="models", **TRAINS,
              kinds={spec.model.engine}, description=spec.description,
              automation_condition=on_cadence())
    def train(context: dg.AssetExecutionContext, config: ModelConfig,
              storage: StorageResource, encoder: EncoderResource) -> dg.MaterializeResult:
        stores = storage.stores(encoder)
        if scored and not steps.questions_have_scores(stores):
            context.log.warning("%s: %s", spec.asset_name, steps.NO_SCORES)
            return dg.MaterializeResult(metadata={"trained": False, "reason": steps.NO_SCORES})
        chosen = spec.with_params(config.model_dump())
        result = steps.train_model(stores, chosen, encoder.config(), context.log)
        return dg.MaterializeResult(metadata={
            "trained": True, "params": dg.MetadataValue.json(chosen.params.to_dict()),
            **result_metadata(result)})

    if is_baseline(spec):
        return train, None

    @dg.asset_check(asset=train, name=f"beats_{spec.model.baseline_name}_baseline",
                    description=f"Validation {spec.model.selection_metric} of the published "
                                f"model is better than the {spec.model.baseline_name} "
                                f"baseline's.")
    def beats_baseline(storage: StorageResource) -> dg.AssetCheckResult:
        return check_result(steps.beats_baseline(storage.stores(), spec))

    return train, beats_baseline


_BUILT = [model_asset(spec) for spec in MODELS]
MODEL_ASSETS = [asset for asset, _ in _BUILT]
"""One asset per registered model (gathered from this module by ``load_from_defs_folder``)."""
MODEL_CHECKS = [check for _, check in _BUILT if check is not None]


def _trained(task: type) -> list[dg.AssetsDefinition]:
    return [asset for asset, spec in zip(MODEL_ASSETS, MODELS, strict=True)
            if issubclass(spec.model, task)]


@dg.asset(deps=_trained(TagModel), **WRITES_DUCKDB, group_name="models",
          kinds={"matplotlib", "duckdb"}, automation_condition=after_upstream(),
          tags={RUNS_AFTER_FAILED_UPSTREAM: "true"})
def tag_evaluation_report(context: dg.AssetExecutionContext, storage: StorageResource,
                          encoder: EncoderResource) -> dg.MaterializeResult:
    """Every tag model on the same test split: F1 variants, precision/recall, Hamming loss,
    P@k, R@5, nDCG@5, recall by frequency bucket, per-label table, confusion matrix, cost."""
    result = reports.tag_evaluation_report(storage.stores(encoder), context.log)
    return dg.MaterializeResult(metadata=result_metadata(result))


@dg.asset(deps=_trained(ScoreModel), **WRITES_DUCKDB, group_name="models",
          kinds={"matplotlib", "duckdb"}, automation_condition=after_upstream(),
          tags={RUNS_AFTER_FAILED_UPSTREAM: "true"})
def score_evaluation_report(context: dg.AssetExecutionContext, storage: StorageResource,
                            encoder: EncoderResource) -> dg.MaterializeResult:
    """Every score model on the same test split: RMSE, MAE, R², Spearman on the raw and the
    log scale, errors by score and by age bucket, predicted against actual, residuals, and
    the tree model's feature importance."""
    result = reports.score_evaluation_report(storage.stores(encoder), context.log)
    return dg.MaterializeResult(metadata=result_metadata(result))
