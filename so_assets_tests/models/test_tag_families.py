"""The generator, word-level, fine-tuned and neighbour tag families, trained for real on small
questions whose tags are written in their text: each learns, beats the most-frequent baseline,
and scores the same after a save and a load. The pretrained-T5 and fine-tuning code paths run
on tiny random models built from configs (nothing is downloaded)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from so_assets.models.core.data import LabelSpace, SplitData, TrainingData
from so_assets.models.publication.train import train_and_publish
from so_assets.models.registry import ModelSpec, baseline_for, load_model, tag_model
from so_assets.models.tags.finetuned import EVERY_LAYER
from so_assets.models.tags.tag_codec import TagCodec

TAGS = ["python", "pandas", "java", "spring", "rust", "cargo"]
LABELS = LabelSpace(["python", "java", "rust"], TAGS, [0, 0, 1, 1, 2, 2])
PATHS = [(0, 0), (0, 1), (1, 0), (1, 1), (2,), (2,)]
FILLER = ["how", "do", "i", "fix", "this", "error", "when", "my", "code", "runs", "the",
          "loop", "over", "a", "list", "of", "items"]


def synthetic_split(n: int, seed: int, dim: int = 16) -> SplitData:
    """Each question names one or two tags in its text; its vectors and segments carry the
    same signal (a direction per tag) plus noise."""
    rng = np.random.default_rng(seed)
    directions = np.random.default_rng(99).normal(size=(len(TAGS), dim))
    tags = np.zeros((n, len(TAGS)), np.float32)
    titles, bodies = [], []
    for i in range(n):
        first = rng.integers(len(TAGS))
        chosen = {first} | ({first ^ 1} if rng.random() < 0.4 else set())
        tags[i, list(chosen)] = 1
        names = [TAGS[t] for t in chosen]
        titles.append(" ".join([*rng.choice(FILLER, 4), names[0]]))
        bodies.append(" ".join([*rng.choice(FILLER, 12), *names, *rng.choice(FILLER, 6)]))
    signal = (tags @ directions).astype(np.float32)
    noise = lambda *shape: rng.normal(scale=0.5, size=shape).astype(np.float32)  # noqa: E731
    clusters = np.zeros((n, 3), np.float32)
    for t in range(len(TAGS)):
        clusters[tags[:, t] > 0, LABELS.tag_cluster[t]] = 1
    tokens = {"title": signal[:, None, :] + noise(n, 4, dim),
              "title_mask": np.ones((n, 4), bool),
              "body": signal[:, None, :] + noise(n, 32, dim),
              "body_mask": np.arange(32)[None, :] < rng.integers(1, 33, n)[:, None]}
    return SplitData(question_ids=np.arange(n) + 1000 * seed, titles=titles, bodies=bodies,
                     title_vectors=signal + noise(n, dim), body_vectors=signal + noise(n, dim),
                     tokens=tokens, clusters=clusters, tags=tags)


@pytest.fixture(scope="module")
def data() -> tuple[TrainingData, SplitData]:
    training = TrainingData(LABELS, synthetic_split(400, 0), synthetic_split(120, 1),
                            tag_paths=PATHS)
    return training, synthetic_split(120, 2)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory) -> dict[str, str]:
    """A random two-layer BERT and a random two-layer T5, both with MiniLM's tokenizer."""
    from transformers import AutoTokenizer, BertConfig, BertModel, T5Config
    from transformers import T5ForConditionalGeneration as T5

    from so_assets.embedding.config import default_model_path

    tokenizer = AutoTokenizer.from_pretrained(default_model_path())
    tokenizer.eos_token = tokenizer.sep_token
    paths = {}
    for name, model in (
        ("bert", BertModel(BertConfig(vocab_size=len(tokenizer), hidden_size=32,
                                      num_hidden_layers=2, num_attention_heads=2,
                                      intermediate_size=64))),
        ("t5", T5(T5Config(vocab_size=len(tokenizer), d_model=32, d_ff=64, d_kv=16,
                           num_heads=2, num_layers=2, pad_token_id=tokenizer.pad_token_id,
                           eos_token_id=tokenizer.sep_token_id,
                           decoder_start_token_id=tokenizer.pad_token_id))),
    ):
        path = tmp_path_factory.mktemp(f"tiny-{name}")
        model.save_pretrained(path)
        tokenizer.save_pretrained(path)
        paths[name] = str(path)
    return paths


def short(name: str, **params) -> ModelSpec:
    """The registered model ``name`` with some parameters changed (nested ones merged)."""
    return tag_model(name).with_params(params)


SLOW = pytest.mark.slow  # a minute or more each on two cores
CASES = {
    "embedding_bag": {"buckets": 4096, "dim": 32, "train": {"epochs": 15}},
    "knn_votes": {},
    "hybrid": {"dense": {"network": "mlp", "train": {"epochs": 10}}},
    "recurrent": {"embed": 32, "hidden": 32, "train": {"epochs": 12}},
    "seq2seq_tags": {"t5_config": {"d_model": 64, "d_ff": 128, "num_heads": 4},
                     "train": {"epochs": 12}},
    "seq2seq_paths": {"t5_config": {"d_model": 64, "d_ff": 128, "num_heads": 4},
                      "train": {"epochs": 12}},
}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=[SLOW] if name in ("recurrent", "seq2seq_paths", "seq2seq_tags")
                 else []) for name in CASES])
def test_each_family_learns_beats_the_baseline_and_reloads(name, data, tmp_path):
    training, test = data
    trained = train_and_publish(short(name, **CASES[name]), training, tmp_path)
    model = trained.model
    assert trained.metrics["beats_baseline"], trained.metrics
    metrics = model.evaluate(test)
    baseline = baseline_for(type(model), LABELS)
    baseline.fit(training)
    assert metrics["micro_f1"] > baseline.evaluate(test)["micro_f1"] + 0.2
    assert metrics["tags_micro_f1"] > 0.6, metrics
    loaded = load_model(trained.folder)
    np.testing.assert_allclose(loaded.predict_scores(test).tags,
                               model.predict_scores(test).tags, atol=1e-5)


def test_tags_learned_within_their_clusters_are_scored_through_them_and_reload(data, tmp_path):
    """The label-tree form of ``tfidf_linear``: a tag's regression sees only its cluster's
    training questions and its score is P(cluster) x P(tag | cluster), never above its
    cluster's; it learns as well as the regression over every question here."""
    training, test = data
    trained = train_and_publish(short("tfidf_linear", tag_learning="within_clusters"),
                                training, tmp_path / "within")
    scores = trained.model.predict_scores(test)
    assert (scores.tags <= scores.clusters[:, LABELS.tag_cluster] + 1e-6).all()
    within = trained.model.evaluate(test)
    every = train_and_publish(short("tfidf_linear"), training, tmp_path / "every"
                              ).model.evaluate(test)
    assert within["tags_micro_f1"] > 0.6 and within["tags_micro_f1"] > every[
        "tags_micro_f1"] - 0.05, (within, every)
    np.testing.assert_allclose(load_model(trained.folder).predict_scores(test).tags,
                               scores.tags, atol=1e-5)


def test_only_tags_learned_within_clusters_draw_their_negatives(data):
    """The draw bounds the label-tree form's fits at scale; over every question it cost 0.7
    points of tag micro-F1 on biology's validation, so that form keeps every negative."""
    training, test = data

    def tag_scores(**params):
        model = short("tfidf_linear", **params).build(LABELS)
        model.fit(training)
        return model.predict_scores(test).tags

    every = {"tag_learning": "every_question", "threads": 1,  # two: liblinear's RNG is shared
             "negatives_per_positive": 0}
    np.testing.assert_array_equal(tag_scores(**every, negatives_per_tag=5),
                                  tag_scores(**every, negatives_per_tag=0))
    within = {"tag_learning": "within_clusters", "threads": 1, "negatives_per_positive": 0}
    assert np.abs(tag_scores(**within, negatives_per_tag=5) -
                  tag_scores(**within, negatives_per_tag=0)).max() > 0.01


def test_tags_are_scored_in_each_question_s_best_clusters_only(data):
    """The beam: a question's tags in its best ``scored_clusters`` clusters score exactly what
    scoring every tag gives them; the others score 0, not a product nobody computed."""
    from dataclasses import replace

    training, test = data
    model = short("tfidf_linear", tag_learning="within_clusters", scored_clusters=1
                  ).build(LABELS)
    model.fit(training)
    beam = model.predict_scores(test)
    model.params = replace(model.params, scored_clusters=0)
    every = model.predict_scores(test)
    np.testing.assert_array_equal(beam.clusters, every.clusters)
    in_beam = np.asarray(LABELS.tag_cluster)[None, :] == beam.clusters.argmax(1)[:, None]
    np.testing.assert_allclose(beam.tags[in_beam], every.tags[in_beam], rtol=1e-6)
    assert (beam.tags[~in_beam] == 0).all() and (every.tags[~in_beam] > 0).any()


def test_the_beam_leaves_out_clusters_below_its_floor_but_never_the_best(data):
    """With ``beam_floor``, a beam cluster below it is not scored (its tags score at most its
    probability, below the floor); the best cluster always is, whatever its probability."""
    from dataclasses import replace

    training, test = data
    model = short("tfidf_linear", tag_learning="within_clusters", scored_clusters=0
                  ).build(LABELS)
    model.fit(training)
    every = model.predict_scores(test)
    floor = float(np.median(every.clusters.max(1)))  # some questions' best cluster is below
    beam = LABELS.n_clusters - 1
    model.params = replace(model.params, scored_clusters=beam, beam_floor=floor)
    floored = model.predict_scores(test)
    tag_cluster = np.asarray(LABELS.tag_cluster)
    scored = (every.clusters >= floor) & (np.argsort(np.argsort(-every.clusters, 1), 1) < beam)
    scored[np.arange(len(test)), every.clusters.argmax(1)] = True
    in_scored = np.take_along_axis(scored, np.broadcast_to(tag_cluster, every.tags.shape), 1)
    np.testing.assert_allclose(floored.tags[in_scored], every.tags[in_scored], rtol=1e-6)
    assert (floored.tags[~in_scored] == 0).all() and (every.tags[~in_scored] > 0).any()
    assert (every.clusters.max(1) < floor).any()  # the best-always rule was exercised


def test_auto_learns_tags_within_clusters_only_above_its_label_count(data, monkeypatch):
    from so_assets.models.tags import linear

    model = linear.TfidfLinear(LABELS)
    assert model.params.tag_learning == "auto" and not model._within_clusters
    monkeypatch.setattr(linear, "WITHIN_CLUSTERS_ABOVE", LABELS.n_tags - 1)
    assert model._within_clusters


@SLOW
def test_finetuned_encoder_trains_end_to_end_on_a_tiny_random_bert(data, tiny_models,
                                                                   tmp_path):
    """The fine-tuning path (tokenizer pairs, pooled encoder, two learning rates, gradient
    accumulation) on a random BERT: it learns the words from scratch."""
    training, test = data
    spec = short("finetuned_encoder", encoder=tiny_models["bert"], max_length=48,
                 head_lr_scale=5.0, trainable_layers=EVERY_LAYER,
                 train={"epochs": 12, "lr": 3e-3, "batch_size": 16, "accumulate": 2,
                        "patience": 4, "scheduler": "plateau"})
    trained = train_and_publish(spec, training, tmp_path)
    assert trained.metrics["beats_baseline"]
    assert trained.model.evaluate(test)["tags_micro_f1"] > 0.5
    loaded = load_model(trained.folder)
    np.testing.assert_allclose(loaded.predict_scores(test).clusters,
                               trained.model.predict_scores(test).clusters, atol=1e-5)


@SLOW
def test_seq2seq_on_a_local_t5_checkpoint_writes_tags_as_text(data, tiny_models, tmp_path):
    """A configured T5 checkpoint reads the question text and writes tag names; decoding never
    leaves the set of kept tags, and the model reloads from its own folder."""
    training, test = data
    spec = short("seq2seq_tags", t5=tiny_models["t5"], max_length=32, beams=4,
                 train={"epochs": 6, "lr": 3e-3, "batch_size": 32})
    trained = train_and_publish(spec, training, tmp_path)
    scores = trained.model.predict_scores(test)
    assert scores.tags.shape == (len(test), len(TAGS)) and scores.tags.max() > 0
    assert trained.metrics["beats_baseline"]
    loaded = load_model(trained.folder)
    np.testing.assert_allclose(loaded.predict_scores(test).tags, scores.tags, atol=1e-5)


def test_path_codes_are_prefix_free_and_decoding_keeps_to_them():
    codec = TagCodec.tree_paths(PATHS, counts=[5, 1, 4, 3, 2, 6])
    assert len(set(codec.items)) == len(TAGS)
    cargo, rust = codec.items[5], codec.items[4]  # same tree path: leaf token decides
    assert cargo[:-1] == rust[:-1] and cargo[-1] != rust[-1]
    assert codec.encode(np.array([0, 0, 0, 0, 1, 1]), 5) == [*cargo, *rust, codec.eos]
    first = set(codec.allowed([]))
    assert first == {codec.items[i][0] for i in range(6)} | {codec.eos}
    assert codec.allowed(list(cargo[:1])) == sorted({codec.items[4][1], codec.items[5][1]})
    assert codec.split([*cargo, *rust[:1]]) == ([5], rust[:1])


def test_one_token_tags_are_never_written_twice():
    codec = TagCodec.single_tokens(3, counts=[1, 2, 3])
    assert codec.encode(np.array([1, 0, 1]), 5) == [4, 2, codec.eos]  # most used first
    assert codec.allowed([4]) == [2, 3, codec.eos]


def test_a_tag_is_named_by_its_words_in_a_row_not_by_a_longer_word():
    from so_assets.models.tags.literal import named_tags

    tags = ["machine-learning", "arduino", "c++", ".net", "carbon", "node.js", "python-3.x"]
    named = named_tags(["Machine learning on two Arduinos", "C++ or .NET?",
                        "carbonation of node.js", "machine, learning", ""], tags)
    assert [[t for t, hit in zip(tags, row, strict=True) if hit] for row in named] == [
        ["machine-learning", "arduino"], ["c++", ".net"], ["node.js"],
        ["machine-learning"], []]


def test_the_stacker_learns_one_rule_for_every_label_and_scores_new_questions():
    """A feature that marks the true labels, shared by all labels: the stacker learns it from
    some questions and applies it to questions it never saw, and survives a save."""
    from so_assets.models.tags.stacking import LogisticPairStacker, load_stacker

    rng = np.random.default_rng(0)
    truth = (rng.random((300, 8)) < 0.2).astype(np.float32)
    informative = truth + rng.normal(scale=0.3, size=truth.shape)
    features = np.stack([informative, rng.normal(size=truth.shape)], -1).astype(np.float32)
    stacker = LogisticPairStacker.fit(features[:200], truth[:200])
    assert abs(stacker.coef[0]) > 5 * abs(stacker.coef[1])
    new = stacker.scores(features[200:])
    assert new[truth[200:] > 0].mean() - new[truth[200:] == 0].mean() > 0.5
    saved = stacker.to_json(["informative", "noise"])
    assert saved["kind"] == "logistic"
    np.testing.assert_allclose(load_stacker(saved, Path("unused")).scores(features),
                               stacker.scores(features), atol=1e-6)


def test_the_boosted_stacker_learns_what_a_sum_of_features_cannot(tmp_path):
    """A label is on when its score is high and its rank is high, or when the question names
    it: an OR of an AND, which no weighted sum draws. The trees learn it from some questions,
    score new ones better than the logistic stacker does, name the features they used, and
    come back from their file with the same scores."""
    from sklearn.metrics import log_loss

    from so_assets.models.tags.stacking import BoostedShape, fit_stacker, load_stacker

    rng = np.random.default_rng(0)
    features = rng.random((600, 10, 4)).astype(np.float32)  # score, rank, named, noise
    features[..., 2] = features[..., 2] < 0.1
    rule = ((features[..., 0] > 0.5) & (features[..., 1] > 0.5)) | (features[..., 2] > 0)
    truth = (rule ^ (rng.random(rule.shape) < 0.05)).astype(np.float32)
    train, new = slice(0, 400), slice(400, 600)
    shape = BoostedShape(trees=200, depth=3, learning_rate=0.1)
    boosted = fit_stacker("boosted", features[train], truth[train], shape)
    logistic = fit_stacker("logistic", features[train], truth[train], shape)
    boosted_scores = boosted.scores(features[new])
    assert boosted_scores.shape == (200, 10)
    losses = {name: log_loss(truth[new].ravel(), stacker.scores(features[new]).ravel())
              for name, stacker in (("boosted", boosted), ("logistic", logistic))}
    assert losses["boosted"] < 0.6 * losses["logistic"], losses
    described = boosted.to_json(["score", "rank", "named", "noise"])
    assert described["kind"] == "boosted" and described["trees"] == 200
    assert described["gain_share"]["noise"] < 0.05
    assert min(described["gain_share"][f] for f in ("score", "rank", "named")) > 0.1
    boosted.save(tmp_path / "stacker.json")
    again = load_stacker(described, tmp_path / "stacker.json")
    np.testing.assert_allclose(again.scores(features[new]), boosted_scores, atol=1e-6)
    assert fit_stacker("boosted", features[train], truth[train], shape).scores(
        features[new]).tolist() == boosted_scores.tolist()  # repeatable


def test_a_clusters_best_member_is_the_highest_score_among_its_tags():
    from so_assets.models.tags.stacking import best_member

    scores = np.array([[0.2, 0.9, 0.4, 0.1], [0.7, 0.3, 0.0, 0.5]], np.float32)
    membership = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 0]])  # cluster 2: none
    np.testing.assert_array_equal(best_member(scores, membership),
                                  np.array([[0.4, 0.9, 0.0], [0.7, 0.5, 0.0]], np.float32))


def test_tag_candidates_are_the_first_stages_best_tags_and_the_named_ones():
    """Each question's candidates: its best tags under the TF-IDF scores, those under the
    neighbour votes that have a vote, and every tag it names; nothing else."""
    from so_assets.models.tags.stacking import FirstStage, tag_candidates

    sparse = np.array([[0.9, 0.1, 0.5, 0.2, 0.0, 0.3], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]])
    votes = np.array([[0.0, 0.0, 0.0, 0.0, 0.7, 0.0], [0.0] * 6])
    named = np.zeros((2, 6))
    named[1, 0] = 1
    first = FirstStage(sparse, sparse, votes, votes, sparse, named, np.zeros((2, 6)))
    assert tag_candidates(first, 2).tolist() == [
        [True, False, True, False, True, False],  # the 2 best, the one voted, none named
        [True, False, False, False, True, True]]  # the 2 best and the one named
    assert tag_candidates(first, 6).all()


def test_a_pairs_tag_features_are_read_from_the_first_stage_at_that_pair():
    """Each candidate pair's features, by name: its own scores, its tag's prior and cluster,
    its question's top score and named tags, and its ranks (0 = the question's best; tied
    tags share their mean rank)."""
    from so_assets.models.tags.stacking import (
        TAG_FEATURES,
        FirstStage,
        logit,
        pair_tag_features,
    )

    sparse = np.array([[0.9, 0.1, 0.5, 0.2], [0.1, 0.6, 0.3, 0.4]], np.float32)
    votes = np.array([[0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0]], np.float32)
    title = np.array([[0, 1, 0, 0], [1, 1, 1, 0]], np.float32)
    body = np.array([[0, 0, 1, 0], [0, 0, 0, 0]], np.float32)
    sparse_clusters = np.array([[0.8, 0.3], [0.2, 0.7]], np.float32)
    dense_clusters = np.array([[0.6, 0.1], [0.4, 0.9]], np.float32)
    first = FirstStage(sparse_clusters, sparse, sparse_clusters, votes, dense_clusters, title,
                       body)
    candidates = np.array([[True, False, True, True], [False, True, False, False]])
    tag_cluster, log_prior = np.array([0, 0, 1, 1]), np.log([0.4, 0.1, 0.3, 0.2])
    features = pair_tag_features(first, candidates, tag_cluster, log_prior)
    named = dict(zip(TAG_FEATURES, features.T, strict=True))
    np.testing.assert_allclose(named["sparse logit"], logit(np.float32([0.9, 0.5, 0.2, 0.6])),
                               rtol=1e-6)
    np.testing.assert_array_equal(named["neighbour votes"], [0.0, 0.5, 0.5, 0.0])
    np.testing.assert_array_equal(named["named in title"], [0, 0, 0, 1])
    np.testing.assert_array_equal(named["named in body"], [0, 1, 0, 0])
    np.testing.assert_allclose(named["log prior"], np.log([0.4, 0.3, 0.2, 0.1]), rtol=1e-6)
    np.testing.assert_allclose(named["log sparse rank"], np.log1p([0, 1, 2, 0]), rtol=1e-6)
    np.testing.assert_allclose(named["log neighbour rank"], np.log1p([2.5, 0.5, 0.5, 1.5]),
                               rtol=1e-6)  # tied tags share their mean rank
    np.testing.assert_array_equal(named["its cluster (sparse)"], np.float32([0.8, 0.3, 0.3, 0.2]))
    np.testing.assert_array_equal(named["its cluster (dense)"], np.float32([0.6, 0.1, 0.1, 0.4]))
    np.testing.assert_array_equal(named["question's top sparse score"],
                                  np.float32([0.9, 0.9, 0.9, 0.6]))
    np.testing.assert_array_equal(named["tags named in title"], [1, 1, 1, 3])


def test_stacker_inputs_give_back_each_chunks_stacked_tags():
    """The candidate pairs, kept in question order, give back a chunk of questions' stacked
    tags: the pairs' scores where they are, 0 elsewhere, none from the chunk's neighbours."""
    from so_assets.models.tags.stacking import StackerInputs

    candidates = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 0], [1, 1, 1]], bool)
    questions, tags = np.nonzero(candidates)
    scores = np.arange(1, len(questions) + 1, dtype=np.float32) / 10
    inputs = StackerInputs(questions, tags, np.zeros((len(questions), 1)), np.zeros((4, 2, 1)))
    dense = np.zeros(candidates.shape, np.float32)
    dense[candidates] = scores
    for rows in (slice(0, 4), slice(1, 3), slice(3, 4), slice(1, 2)):
        np.testing.assert_array_equal(inputs.stacked_tags(scores, rows, 3), dense[rows])


def test_the_hybrid_stacks_only_each_questions_candidate_tags(data, tmp_path, monkeypatch):
    """With 2 candidates per first-stage model, a question's tags outside its candidates
    score 0 and those inside are stacked (above 0): the stacker never sees the others. How
    many questions are scored at a time changes no score (with the logistic stacker: the
    first stage's batched arithmetic moves a score in its last bits, which trees, being
    step functions, can turn into a different leaf)."""
    from so_assets.models.tags import hybrid
    from so_assets.models.tags.stacking import tag_candidates

    training, test = data
    model = train_and_publish(short("hybrid", **CASES["hybrid"], tag_candidates=2,
                                    stacker="logistic"), training, tmp_path).model
    candidates = tag_candidates(model._first_stage(test), 2)
    assert candidates.sum(1).max() < candidates.shape[1]  # the restriction bites
    scores = model.predict_scores(test)
    assert not scores.tags[~candidates].any() and (scores.tags[candidates] > 0).all()
    monkeypatch.setattr(hybrid, "FIRST_STAGE_BUDGET", 3 * model.labels.n_tags)
    in_threes = model.predict_scores(test)
    np.testing.assert_allclose(in_threes.tags, scores.tags, atol=1e-6)
    np.testing.assert_allclose(in_threes.clusters, scores.clusters, atol=1e-6)


def test_the_reports_take_each_published_model_of_the_current_tree(data, tmp_path, caplog):
    """Which models are published, and on which label space, is read from their folders; a
    model trained on another tree and one never trained are named and left out, and a kept
    one loads (when its turn comes) as it was saved."""
    import logging
    from types import SimpleNamespace

    from so_assets.steps.reports import published

    training, test = data
    current = train_and_publish(short("tfidf_linear"), training, tmp_path)
    older = LabelSpace(LABELS.cluster_names, TAGS, [0, 1, 1, 1, 2, 2])
    train_and_publish(short("knn_votes"), TrainingData(older, training.train,
                                                       training.validation), tmp_path)
    with caplog.at_level(logging.INFO):
        kept = published(SimpleNamespace(models_dir=tmp_path),
                         [short(n) for n in ("tfidf_linear", "knn_votes", "mlp")], LABELS,
                         logging.getLogger("report"))
    assert [m.spec.name for m in kept] == ["tfidf_linear"]
    assert kept[0].folder == current.folder and "validation" in kept[0].saved
    assert "tag_model_knn_votes was trained on another label space" in caplog.text
    assert "tag_model_mlp has no published version" in caplog.text
    np.testing.assert_array_equal(kept[0].load().predict_scores(test).tags,
                                  current.model.predict_scores(test).tags)


def test_the_hybrid_stacks_out_of_fold_training_scores(data, tmp_path):
    """The stackers learn from training questions scored by parts that did not see them (as
    unseen questions are scored, less sure than in-sample), so validation is unseen by every
    stage and its scores are the saved model's own."""
    training, test = data
    trained = train_and_publish(short("hybrid", **CASES["hybrid"]), training, tmp_path)
    model = trained.model
    inputs, questions = model._out_of_fold_stacker_inputs(training, None)
    assert len(questions) == len(training.train)
    in_sample = model.sparse.predict_scores(questions).tags[inputs.questions, inputs.tags]
    out_of_fold = 1 / (1 + np.exp(-inputs.pair_features[:, 0]))  # the pairs' sparse logit
    on_true = questions.tags[inputs.questions, inputs.tags] > 0
    assert out_of_fold[on_true].mean() < in_sample[on_true].mean() - 0.05
    np.testing.assert_allclose(model.held_out_scores(training.validation).tags,
                               load_model(trained.folder).predict_scores(training.validation).tags,
                               atol=1e-5)
    tfidf = train_and_publish(short("tfidf_linear"), training, tmp_path).model
    assert (model.evaluate(test)["tags_micro_f1"]
            >= tfidf.evaluate(test)["tags_micro_f1"] - 0.02)


def test_a_partly_fine_tuned_encoder_saves_only_its_trained_layers(data, tiny_models,
                                                                    tmp_path):
    """With frozen lower layers, model.pt holds the top layer and the heads; loading reads the
    rest from the pretrained encoder, and refuses one whose weights are not the same."""
    import shutil

    import torch
    from transformers import BertConfig, BertModel

    training, test = data
    encoder = tmp_path / "bert"
    shutil.copytree(tiny_models["bert"], encoder)
    spec = short("finetuned_encoder", encoder=str(encoder), max_length=32, trainable_layers=1,
                 train={"epochs": 1, "batch_size": 32, "accumulate": 1})
    trained = train_and_publish(spec, training, tmp_path / "models")
    saved = torch.load(trained.folder / "model.pt", weights_only=True)["state"]
    assert any(".layer.1." in k for k in saved) and any(k.startswith("heads.") for k in saved)
    assert not any(".layer.0." in k or "embeddings" in k for k in saved)
    assert not (trained.folder / "best_checkpoint.pt").exists()
    loaded = load_model(trained.folder)
    np.testing.assert_allclose(loaded.predict_scores(test).tags,
                               trained.model.predict_scores(test).tags, atol=1e-5)
    BertModel(BertConfig.from_pretrained(encoder)).save_pretrained(encoder)  # other weights
    with pytest.raises(ValueError, match="not the one"):
        load_model(trained.folder)


@pytest.mark.parametrize("kind", ["bert", "qwen3"])
def test_fine_tuning_on_the_cpu_trains_only_the_top_layers(kind):
    """The CPU default: embeddings and lower layers frozen (no gradient, not in the optimiser),
    the top layers and the heads trained; BERT's and Qwen3's layer stacks are both found."""
    from transformers import BertConfig, BertModel, Qwen3Config, Qwen3Model

    from so_assets.models.training.frozen_layers import transformer_layers
    from so_assets.models.training.networks import EncoderClassifier

    small = {"hidden_size": 32, "num_hidden_layers": 3, "num_attention_heads": 2,
             "intermediate_size": 64, "vocab_size": 100}
    encoder = (BertModel(BertConfig(**small)) if kind == "bert" else
               Qwen3Model(Qwen3Config(**small, num_key_value_heads=1, head_dim=16)))
    network = EncoderClassifier(encoder, n_clusters=3, n_tags=5)
    network.train_top_layers(1)
    layers = transformer_layers(encoder)
    trained = {id(p) for p in layers[-1].parameters()}
    assert all(p.requires_grad == (id(p) in trained) for p in encoder.parameters())
    groups = network.parameter_groups(1e-4)
    assert {id(p) for p in groups[0]["params"]} == trained
    assert all(p.requires_grad for p in network.heads.parameters())
    import torch

    ids = torch.randint(0, 100, (2, 6))
    network(ids, torch.ones_like(ids))[1].sum().backward()
    assert layers[0].parameters().__next__().grad is None
    assert layers[-1].parameters().__next__().grad is not None


def tiny_encoder(kind: str, layers: int = 3, dropout: float = 0.1):
    """A random BERT or Qwen3 with ``layers`` layers and a vocabulary of 100."""
    from transformers import BertConfig, BertModel, Qwen3Config, Qwen3Model

    small = {"hidden_size": 32, "num_hidden_layers": layers, "num_attention_heads": 2,
             "intermediate_size": 64, "vocab_size": 100}
    if kind == "bert":
        return BertModel(BertConfig(**small, hidden_dropout_prob=dropout,
                                    attention_probs_dropout_prob=dropout))
    return Qwen3Model(Qwen3Config(**small, num_key_value_heads=1, head_dim=16,
                                  attention_dropout=dropout))


@pytest.mark.parametrize("kind", ["bert", "qwen3"])
@pytest.mark.parametrize("trained_layers", [1, 2, 0])
def test_the_frozen_layers_output_stands_in_for_the_tokens(kind, trained_layers):
    """The top layers run on what the frozen ones output give the logits the tokens give
    (padding columns included), and training through them reaches only the top layers."""
    import torch

    from so_assets.models.training.frozen_layers import transformer_layers
    from so_assets.models.training.networks import EncoderClassifier

    torch.manual_seed(0)
    network = EncoderClassifier(tiny_encoder(kind), n_clusters=3, n_tags=5).eval()
    network.train_top_layers(trained_layers)
    ids = torch.randint(1, 100, (4, 10))
    mask = (torch.arange(10) < torch.tensor([[8], [7], [3], [5]])).long()
    ids = ids * mask
    states = network.frozen_states(ids, mask)
    assert states.shape == (4, 10, 32) and not states[:, 8:].any()  # padding in every row
    with torch.no_grad():
        for from_tokens, from_states in zip(network(ids, mask), network(states.clone(), mask),
                                            strict=True):
            torch.testing.assert_close(from_states, from_tokens, atol=1e-5, rtol=1e-4)
    network.train()
    network(states.clone(), mask)[1].sum().backward()
    layers = transformer_layers(network.encoder)
    for index, layer in enumerate(layers):
        gradient = next(layer.parameters()).grad
        assert (gradient is not None) == (index >= len(layers) - trained_layers)
    assert len(layers) == 3 and all(type(layer).__name__ != "_PassThrough" for layer in layers)


def test_every_layer_trained_has_no_frozen_output():
    from so_assets.models.training.networks import EncoderClassifier

    network = EncoderClassifier(tiny_encoder("bert"), n_clusters=3, n_tags=5)
    network.train_top_layers(None)
    import torch

    with pytest.raises(ValueError, match="every layer"):
        network.frozen_states(torch.ones(1, 4, dtype=torch.long), torch.ones(1, 4))


def test_storing_the_frozen_layers_output_changes_the_cost_not_the_model(data, tiny_models,
                                                                        tmp_path,
                                                                        monkeypatch):
    """Fitted with the frozen layers' output stored once (the default) or recomputed each
    epoch (``frozen_store_mb=0``), a dropout-free encoder ends with the same scores; only the
    first computes the store."""
    import shutil

    from transformers import BertConfig, BertModel

    from so_assets.models.training.networks import EncoderClassifier

    training, test = data
    encoder = tmp_path / "bert"
    shutil.copytree(tiny_models["bert"], encoder)
    config = BertConfig.from_pretrained(encoder)
    config.hidden_dropout_prob = config.attention_probs_dropout_prob = 0.0
    BertModel(config).save_pretrained(encoder)
    calls = []
    original = EncoderClassifier.frozen_states
    monkeypatch.setattr(EncoderClassifier, "frozen_states",
                        lambda self, *a: calls.append(len(a[0])) or original(self, *a))
    scores = {}
    for store_mb in (2048, 0):
        calls.clear()
        spec = short("finetuned_encoder", encoder=str(encoder), max_length=32,
                     trainable_layers=1, frozen_store_mb=store_mb,
                     train={"epochs": 2, "batch_size": 32, "accumulate": 1, "lr": 1e-3})
        trained = train_and_publish(spec, training, tmp_path / f"store-{store_mb}")
        scores[store_mb] = trained.model.predict_scores(test).tags
        assert sum(calls) == (len(training.train) + len(training.validation)
                              if store_mb else 0)
    np.testing.assert_allclose(scores[2048], scores[0], atol=2e-3)


def test_a_one_thread_family_trains_and_scores_on_one_thread_and_restores_them(data, tmp_path):
    import torch

    from so_assets.models.tags.word_models import EmbeddingBagModel

    seen: list[int] = []

    class Observed(EmbeddingBagModel):
        def build_network(self, dim):
            network = super().build_network(dim)
            network.register_forward_pre_hook(lambda *_: seen.append(torch.get_num_threads()))
            return network

    training, test = data
    spec = short("embedding_bag", **CASES["embedding_bag"])
    model = Observed(LABELS, spec.params)
    assert model.train_config().threads == 1
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        model.fit(training)
        model.predict_scores(test)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    assert seen and set(seen) == {1}


def test_seq2seq_picks_its_epoch_by_the_validation_loss_per_target_token(data):
    import torch

    training, _ = data
    spec = short("seq2seq_tags", t5_config=CASES["seq2seq_tags"]["t5_config"],
                 epoch_signal="loss", train={"epochs": 4})
    model = spec.model(LABELS, spec.params)
    result = model.fit(training)
    figures = [row["validation"] for row in result.history]
    assert all(f < 0 for f in figures) and result.best_score == max(figures)
    assert figures[-1] > figures[0]  # it learns: the loss falls
    model.network.eval()
    validation = training.validation
    with torch.inference_mode():  # one batch, every token weighted alike
        inputs = [torch.from_numpy(a) for a in model.network_inputs(validation)]
        labels = model.target_sequences(validation.tag_matrix())
        logits = model.network.t5(inputs_embeds=model.network._encoder_inputs(*inputs)[0],
                                  attention_mask=model.network._encoder_inputs(*inputs)[1],
                                  labels=labels).logits
        direct = torch.nn.functional.cross_entropy(logits.flatten(0, 1), labels.flatten(),
                                                   ignore_index=-100)
        model.score_batch_size = 32  # four batches of different target lengths
        figure = model.epoch_figure(model.network, validation, torch.device("cpu"))
    assert figure == pytest.approx(-float(direct), rel=1e-4)
    assert figure == pytest.approx(result.best_score, rel=1e-4)


def test_the_hybrid_gives_a_label_every_training_question_carries_score_one(data, tmp_path):
    """As on the Data Explorer export, where every question carries data-science: the shared
    stacker alone does not always rank such a label first; it scores 1, saved and loaded."""
    import dataclasses

    def everywhere(split: SplitData) -> SplitData:
        tags, clusters = split.tag_matrix(), split.clusters.copy()
        tags[:, 0] = clusters[:, 0] = 1
        return dataclasses.replace(split, tags=tags, clusters=clusters)

    training, test = data
    training = dataclasses.replace(training, train=everywhere(training.train),
                                   validation=everywhere(training.validation))
    trained = train_and_publish(short("hybrid", **CASES["hybrid"]), training, tmp_path)
    for model in (trained.model, load_model(trained.folder)):
        scores = model.predict_scores(everywhere(test))
        assert (scores.tags[:, 0] == 1).all() and (scores.clusters[:, 0] == 1).all()
        assert (scores.tags[:, 1:] < 1).all()
