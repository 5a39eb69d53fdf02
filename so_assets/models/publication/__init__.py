"""Train, calibrate and publish a model atomically; parts stored once and shared."""
