"""``so-assets serve``: the HTTP suggestion service over the production models."""

from __future__ import annotations

import argparse
import logging
import sys


def run(args: argparse.Namespace) -> None:
    """Load the production models once and serve them until stopped."""
    import uvicorn

    from so_assets.serving.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("so_assets.embedding.encoder").setLevel(logging.WARNING)  # per request
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: serving on {args.host}: the service has no authentication; put an "
              "authenticating proxy in front (deploy/README.md)", file=sys.stderr)
    app = create_app(args.data_dir)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning",
                timeout_graceful_shutdown=5)
