"""The model contract, typed parameters, the data models see, thresholds, the score target."""
