"""The splits assembled from the stores, and predictions for new questions."""
