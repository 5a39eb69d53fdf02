"""The kinds of embedding partition files (also the names of their assets); no h5py here, so
the code location can name them without loading it."""

VECTORS = "question_embeddings"  # per day: question_id, title [n, d], body [n, d]
TOKENS = "question_token_embeddings"  # per day: title [n, 4, d], body [n, 32, d] and masks
TOKEN_FIELDS = ("title", "title_mask", "body", "body_mask")
