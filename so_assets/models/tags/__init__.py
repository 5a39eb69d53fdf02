"""Tag model families: each scores the label clusters (and, most, the kept tags)."""
