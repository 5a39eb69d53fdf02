"""Text encoders on transformers + torch: pooling, batching, configuration."""
