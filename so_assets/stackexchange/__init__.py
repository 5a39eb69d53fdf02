"""Stack Exchange data: API client, bulk importers, the normalizer and the bundled sample."""
