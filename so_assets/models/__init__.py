"""Tag predictors: data, losses, networks, trainer, thresholds, artifacts and the registry."""
