"""The model contract, the data models see, decision thresholds, the score target."""
