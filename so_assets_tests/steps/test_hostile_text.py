"""Tags and titles that look like markup or paths land escaped in every report."""

from __future__ import annotations

import logging
import re
from datetime import date

from so_assets.embedding.config import EncoderConfig
from so_assets.stackexchange.sources import make_source
from so_assets.steps import embeddings, exploration, ingestion, models, tag_clustering, tagtree
from so_assets.storage.embedding_store import VECTORS
from so_assets.storage.stores import Stores

# Tags a plain CSV can carry as tags (no space, comma, "|" or leading "<": those are notations
# and split, see stackexchange/tags.py) that are markup all the same.
HOSTILE = ["x<script>alert(1)</script>", "*bold*_it_`", "../..", "[x](javascript:y)"]


def test_hostile_tags_are_escaped_in_every_report(tmp_path, minilm):
    rows = ["id,title,content,tags"]
    for i in range(60):
        tags = " ".join([HOSTILE[i % 4], HOSTILE[(i + 1) % 4], "python" if i % 2 else "java"])
        rows.append(f'{i},"<b>Title</b> | {i}","<p>body {i} about {tags}</p>","{tags}"')
    csv = tmp_path / "hostile.csv"
    csv.write_text("\n".join(rows) + "\n")
    stores = Stores(tmp_path / "data", minilm.slug)
    log = logging.getLogger("test")
    day = date(2008, 7, 31)
    source = make_source("plain_csv", "hostile", {"path": str(csv)})
    ingestion.load_raw_questions(stores, source, [day], log)
    ingestion.build_questions(stores, None, log)
    config = EncoderConfig(batch_tokens=2048)
    embeddings.embed_questions(stores, config, [day], {VECTORS}, embeddings.EmbeddingParams(),
                               log)
    embeddings.embed_tags(stores, config, log)
    models.assign_dataset_splits(stores, models.SplitParams())
    tree = tagtree.tag_tree(stores, tagtree.TagTreeParams(n_clusters=2, min_tag_count=5),
                                  log)
    labels = tagtree.tag_labels(stores, log)
    reports = [exploration.eda_report(stores).path,
               tag_clustering.tag_clustering_report(
                   stores, tag_clustering.TagClusteringParams(manifold_trials=2), log).path]
    tables = [tree.clusters_table.markdown(), labels.most_used_orphans.markdown()]
    for text in [p.read_text() for p in reports] + tables:
        assert "<script>" not in text and "<b>" not in text
        assert not re.search(r"(?<!\\)\]\(javascript:", text)  # no live link
        lines = text.splitlines()
        width = 0  # every row of a table has its header's cell count
        for line, following in zip(lines, [*lines[1:], ""], strict=True):
            if not line.startswith("| "):
                continue
            cells = len(re.split(r"(?<!\\)\|", line.strip())[1:-1])
            if following.startswith("|---"):
                width = cells
            assert cells == width, line
    eda = reports[0].read_text()
    assert "x&lt;script&gt;alert(1)&lt;/script&gt;" in eda and "\\*bold\\*\\_it\\_\\`" in eda
