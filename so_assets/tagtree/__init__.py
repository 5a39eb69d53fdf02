"""Spherical k-means, the recursive tag tree, orphan-tag imputation and the cluster matcher."""
