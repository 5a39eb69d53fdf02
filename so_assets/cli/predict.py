"""``so-assets predict``: the top clusters, tags and the score of one question."""

from __future__ import annotations

import argparse
import sys


def clean_text(text: str, what: str) -> str:
    """Text as UTF-8 can carry it: bytes the shell could not decode become U+FFFD (with a
    warning) instead of crashing the tokenizer."""
    cleaned = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if cleaned != text or "\ufffd" in cleaned:
        print(f"warning: the {what} is not valid UTF-8; undecodable bytes were replaced",
              file=sys.stderr)
    return cleaned


def read_body(args: argparse.Namespace) -> str:
    if args.body_file is None:
        return clean_text(args.body, "body")
    raw = sys.stdin.buffer.read() if str(args.body_file) == "-" else args.body_file.read_bytes()
    return clean_text(raw.decode("utf-8", "surrogateescape"), "body")


def run(args: argparse.Namespace) -> None:
    from so_assets.embedding.encoder import load_encoder
    from so_assets.models.prediction.predict import load_tag_model, predict, predict_score

    title, body = clean_text(args.title, "title").strip(), read_body(args)
    if not title:
        raise ValueError("the title is empty: a question needs a title to be tagged")
    models_dir = args.data_dir.absolute() / "models"
    name, model, encoder_config = load_tag_model(models_dir, args.model)
    result = predict(name, model, load_encoder(encoder_config), title, body, args.top)
    print(f"model: {result.model}")
    print("clusters (named by their most representative tag):")
    for label, score, chosen in result.clusters:
        print(f"  {'*' if chosen else ' '} {score:6.3f}  {label}")
    if result.tags_from_cluster:
        print(f"tags: none scored (this model predicts clusters only); the top cluster "
              f"{result.clusters[0][0]!r} holds, most used first: "
              + ", ".join(tag for tag, _, _ in result.tags))
    else:
        print("tags:")
        for tag, score, chosen in result.tags:
            print(f"  {'*' if chosen else ' '} {score:6.3f}  {tag}")
    print("(* = above the model's tuned decision threshold)")
    score = predict_score(models_dir, args.score_model, result,
                          args.tags.split() if args.tags else None, args.reputation,
                          args.horizon_days)
    if score is not None:
        interval = (f" (80% interval {score.low:.1f} to {score.high:.1f})"
                    if score.low is not None and score.high is not None else "")
        print(f"score after {score.horizon_days:.0f} days ({score.model}): "
              f"{score.score:.1f}{interval}")
