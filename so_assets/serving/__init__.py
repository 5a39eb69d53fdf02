"""The HTTP suggestion service (``so-assets serve``): the production models, warm, over REST."""
