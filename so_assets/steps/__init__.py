"""One plain function per asset: stores and a config in, a typed result out. The Dagster
assets in ``defs/`` call these; ``so-assets evaluate`` calls the same ones in order."""
