"""Linear one-vs-rest model on TF-IDF of title and body."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from so_assets.models.core.base import Scores, TagModel, Target, TrainResult
from so_assets.models.core.data import Inputs, TrainingData, question_text
from so_assets.models.core.tfidf import load_vectorizer, new_vectorizer, save_vectorizer
from so_assets.models.training.progress import Progress
from so_assets.params import Params, param

WITHIN_CLUSTERS_ABOVE = 1000
"""Tag labels above which ``auto`` learns tags within their clusters: below it the loop over
every question costs minutes on two cores and is as good or slightly better (robotics, crypto,
biology: within 0.5 points of micro-F1 either way), above it the loop's cost runs away."""
SCORE_ROWS = 2048  # questions scored at a time
TASKS_PER_PROCESS = 4
"""Shares a group's labels are cut into per fitting process: each share carries the group's
TF-IDF rows to its process once, and progress is logged as shares finish."""
PROCESSES_FROM = 1_000_000
"""Label fits x their rows (summed over the groups) from which the fits go to processes:
below it, starting them and sending them the rows costs more than a second core saves (three
trainings on 3,000 generated questions x 30 labels: 4.2 s in this process, 7.3 s on two), and
the fits are the same either way."""


@dataclass(frozen=True)
class TfidfLinearParams(Params):
    C: float = param(4.0, "Inverse L2 penalty of every label's logistic regression.", gt=0)
    max_features: int = param(200_000, "Most frequent word 1-2 grams kept in the TF-IDF "
                                       "vocabulary.", ge=1)
    prune_below: float = param(
        0.03, "Weights smaller than this are dropped: TF-IDF rows are L2-normalised, so such a "
              "weight moves a logit by under 0.03 even for a one-word question (on crypto 22 % "
              "of the weights are kept; test micro-F1 moved by at most 0.9 points).", ge=0)
    tol: float = param(
        0.01, "liblinear's stopping tolerance (relative to the first gradient). Past as many "
              "training questions as features liblinear solves the primal problem, where "
              "scikit-learn's 1e-4 spent about a quarter of each fit refining weights that no "
              "longer change a ranking (80,000 generated questions: seven labels' held-out AUC and "
              "average precision the same to four digits, 0.66-0.84x the CPU). Below that, in "
              "the dual, the fits stop early either way: robotics, crypto and biology gave the "
              "same micro-F1 (within 0.0003) and CPU at 1e-4.",
        gt=0, le=0.5)
    threads: int = param(2, "Labels fitted at once, each in a process of its own (1: in this "
                            "one); the fits are the same either way.", ge=1)
    tag_learning: Literal["auto", "every_question", "within_clusters"] = param(
        "auto",
        "What a tag's regression learns from: every training question, or only the questions "
        "of its depth-1 cluster (and those routed there), its score then P(cluster) x P(tag | "
        "cluster): the label-tree form of Parabel and XR-Linear on the project's tree, whose "
        "fits cost each cluster's questions times its tags instead of every question times "
        "every tag. auto: within clusters above 1,000 tag labels.")
    negatives_per_tag: int = param(
        500, "With tags learned within clusters: a tag's regression learns from all its "
             "positives and at most this many of its cluster's negatives (or "
             "negatives_per_positive times its positives, when more), drawn at random and "
             "weighted up so that the class-balanced loss is the same in expectation (0: every "
             "negative). Bounds the fits as questions grow: at 100,000 questions a cluster's "
             "rows run to thousands, for each of its hundreds of tags; with the draw they cost "
             "about tags x 500 + 20 x tag occurrences, linear in questions. On a generated "
             "30,000-question sample (5,451 tag labels) validation tag micro-F1 0.7845 with "
             "4,000 flat, 0.7843 with 500 + 20 per positive, CPU 142 -> 93 s. Not over every "
             "question: there a flat draw cost 0.7 points of tag micro-F1 on biology's "
             "validation.", ge=0)
    negatives_per_positive: int = param(
        20, "With negatives_per_tag: a tag draws this many negatives per positive when that is "
            "more than negatives_per_tag, so frequent tags keep their hard negatives (0: "
            "negatives_per_tag for every tag).", ge=0)
    routed_clusters: int = param(
        3, "With tag_learning within_clusters: a cluster's tags also learn from the training "
           "questions whose cluster scores rank it among their best this many (0: from its "
           "own questions only).", ge=0)
    scored_clusters: int = param(
        10, "With tags learned within clusters: a question's tags are scored in its best this "
            "many clusters only (the beam of Parabel and XR-Linear), the others' scoring 0, "
            "below P(cluster) anyway: scoring costs each question these clusters' tags, not "
            "every tag (0: every cluster).", ge=0)
    beam_floor: float = param(
        0.1, "With the beam: of a question's best scored_clusters, those whose P(cluster) is "
             "below this are not scored either (the best one always is): their tags' scores, "
             "P(cluster) x P(tag | cluster), are below it too, so below any tag threshold above "
             "it. On 100,000 generated questions (the lowest tag threshold 0.27) a question "
             "then scores 1,517 tags instead of 4,254, validation figures the same to four "
             "digits but tag R@5 (-0.0001); 0: every beam cluster.", ge=0, le=1)


@dataclass(frozen=True)
class LabelGroup:
    """Label columns that learn from the same training rows (``rows`` None: every row)."""

    columns: np.ndarray
    rows: np.ndarray | None = None


@dataclass
class LabelwiseLogistic:
    """One logistic regression per label, fitted one small binary problem at a time with
    liblinear: memory grows with the sparse matrix, not with the number of labels (the seed's
    TF-IDF baseline ran out of RAM at 133 tags). A label never positive in its training rows
    scores 0; one positive on every one of them (``android`` on an Android-only export) scores
    1, as there is nothing to separate. Weights are kept sparse (``prune_below``)."""

    coef: object  # scipy.sparse CSR [labels with both classes in training, features] float32
    intercept: np.ndarray  # [labels with both classes in training]
    present: np.ndarray  # [labels] bool: both classes seen, a regression fitted
    always: np.ndarray | None = None  # [labels] bool: positive on every training question

    @classmethod
    def fit(cls, x, y, c: float, log: logging.Logger | None = None,
            label: str = "labels", prune_below: float = 0.0,
            groups: Sequence[LabelGroup] | None = None, n_jobs: int = 2,
            negatives: int = 0, negatives_per_positive: int = 0, tol: float = 1e-4
            ) -> LabelwiseLogistic:
        """Fit every label of ``y`` ([n, labels], dense or sparse) on ``x`` ([n, features]
        sparse), on ``n_jobs`` processes when the fits are many and large enough
        (``PROCESSES_FROM``; else in this process), each fitting a share of a group's labels
        one after another with BLAS on one thread (its idle threads spinning beside liblinear
        doubled the CPU time). Processes, not threads: liblinear draws from one random generator per
        process, reseeded at each fit, so fits side by side on threads took each other's
        draws and two trainings on the same data differed (robotics: cluster scores by up to
        0.001, a threshold and 0.1 point of test micro-F1). ``groups``: each
        label learns from its group's rows only (the label-tree form); default every row.
        ``negatives``: a label with more negative rows than this (or than
        ``negatives_per_positive`` times its positives, when more) learns from a random draw
        of that many, weighted up (:func:`_sampled_rows`); 0: from every one. ``tol``:
        liblinear's stopping tolerance."""
        from joblib import Parallel, delayed

        groups = groups or [LabelGroup(np.arange(y.shape[1]))]
        present = np.zeros(y.shape[1], bool)
        always = np.zeros(y.shape[1], bool)
        for group in groups:
            rows = _group_truth(y, group)
            positives = rows.sum(0)
            present[group.columns] = (positives > 0) & (positives < len(rows))
            always[group.columns] = (positives == len(rows)) & (len(rows) > 0)
        progress = Progress(log, f"tfidf_linear {label}", int(present.sum()), "labels fitted")

        x = _canonical(x)

        def tasks():
            for group in groups:
                x_group = x if group.rows is None else _canonical(x[group.rows])
                y_group = _group_truth(y, group)  # [group rows, group columns] only
                fitted_at = np.flatnonzero(present[group.columns])
                shares = min(len(fitted_at), max(n_jobs, 1) * TASKS_PER_PROCESS)
                for share in np.array_split(fitted_at, shares) if shares else []:
                    yield delayed(_fit_labels)(x_group, y_group[:, share],
                                               group.columns[share], c, prune_below, tol,
                                               negatives, negatives_per_positive)

        work = sum(int(present[g.columns].sum()) * (x.shape[0] if g.rows is None else len(g.rows))
                   for g in groups)
        on_processes = n_jobs > 1 and work >= PROCESSES_FROM
        fitted = {}
        for share in Parallel(n_jobs=n_jobs if on_processes else 1,
                              backend="loky" if on_processes else "sequential",
                              inner_max_num_threads=1 if on_processes else None,
                              return_as="generator")(tasks()):
            for column, weights, bias in share:
                fitted[column] = (weights, bias)
            progress.step(len(share))
        return cls._from_fitted(fitted, present, always, x.shape[1])

    @classmethod
    def _from_fitted(cls, fitted: dict, present: np.ndarray, always: np.ndarray,
                     n_features: int) -> LabelwiseLogistic:
        from scipy import sparse

        columns = np.flatnonzero(present)
        coef = (sparse.vstack([fitted[j][0] for j in columns], format="csr", dtype=np.float32)
                if len(columns) else sparse.csr_matrix((0, n_features), dtype=np.float32))
        intercept = np.array([fitted[j][1] for j in columns], dtype=np.float32)
        return cls(coef, intercept, present, always)

    @functools.cached_property
    def _by_feature(self):
        """coef as [features, labels] CSR, built once: a question's few terms pick their rows
        (``x @ coef.T`` converted all of coef per call: 17 ms of one question on robotics)."""
        return self.coef.T.tocsr()

    def restricted(self, columns: np.ndarray) -> LabelwiseLogistic:
        """The regressions of label ``columns`` only (a copy of their rows of the weights)."""
        fitted_row = np.cumsum(self.present) - 1  # label column -> its row of coef
        kept = columns[self.present[columns]]
        return LabelwiseLogistic(self.coef[fitted_row[kept]], self.intercept[fitted_row[kept]],
                                 self.present[columns],
                                 None if self.always is None else self.always[columns])

    def scores(self, x) -> np.ndarray:
        """[n, labels] probabilities, a chunk of rows at a time (the float64 products of
        10,000 questions x 15,000 labels would take GBs at once)."""
        out = np.zeros((x.shape[0], len(self.present)), dtype=np.float32)
        if self.coef.shape[0]:
            for lo in range(0, x.shape[0], SCORE_ROWS):
                product = x[lo: lo + SCORE_ROWS] @ self._by_feature
                logits = (product.toarray() if hasattr(product, "toarray") else product) + \
                    self.intercept
                out[lo: lo + SCORE_ROWS, self.present] = 1 / (1 + np.exp(-logits))
        if self.always is not None:
            out[:, self.always] = 1.0
        return out

    def save(self, directory: Path, name: str) -> None:
        """As data: the sparse weights (``<name>_coef.npz``) and the other arrays."""
        from scipy import sparse

        sparse.save_npz(directory / f"{name}_coef.npz", self.coef.tocsr())
        np.savez(directory / f"{name}_arrays.npz", intercept=self.intercept,
                 present=self.present,
                 always=self.always if self.always is not None else np.zeros(0, bool))

    @classmethod
    def load(cls, directory: Path, name: str) -> LabelwiseLogistic:
        from scipy import sparse

        arrays = np.load(directory / f"{name}_arrays.npz", allow_pickle=False)
        always = arrays["always"]
        return cls(sparse.load_npz(directory / f"{name}_coef.npz").tocsr(),
                   arrays["intercept"], arrays["present"], always if len(always) else None)


def _group_truth(y, group: LabelGroup) -> np.ndarray:
    """The group's rows and columns of ``y`` (dense, or sparse as the tag labels are), dense,
    copying nothing wider."""
    if hasattr(y, "toarray"):
        rows = y if group.rows is None else y[group.rows]
        return rows[:, group.columns].toarray()
    return y[:, group.columns] if group.rows is None else y[np.ix_(group.rows, group.columns)]


def _sampled_rows(truth: np.ndarray, negatives: int, per_positive: int, seed: int
                  ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(rows, sample weights) of one label's fit when it has more negative rows than its
    budget, ``negatives`` or ``per_positive`` times its positives, whichever is more
    (``negatives`` > 0): every positive and a budget of negatives drawn without replacement,
    weighted so that each class carries half of the rows' total weight as under
    ``class_weight="balanced"`` over every row, which keeps the loss the same in expectation.
    (None, None): fit on every row."""
    positive = truth > 0
    n, n_positive = len(truth), int(positive.sum())
    budget = max(negatives, per_positive * n_positive)
    if not negatives or n - n_positive <= budget:
        return None, None
    rng = np.random.default_rng(seed)
    drawn = rng.choice(np.flatnonzero(~positive), budget, replace=False)
    rows = np.sort(np.concatenate([np.flatnonzero(positive), drawn]))
    weights = np.where(positive[rows], n / (2 * n_positive), n / (2 * budget))
    return rows, weights


def _canonical(x):
    """``x`` as liblinear takes it: float64 CSR with sorted, summed indices, made once, so the
    threads share it read-only (each fit otherwise copied it, and fits side by side sorted
    the same arrays in place at once)."""
    from scipy import sparse

    x = sparse.csr_matrix(x, dtype=np.float64, copy=True)  # its arrays are sorted below
    x.sum_duplicates()
    return x


def _fit_labels(x, y: np.ndarray, columns: np.ndarray, c: float, prune_below: float,
                tol: float, negatives: int, negatives_per_positive: int) -> list[tuple]:
    """The regressions of ``y``'s columns (label ``columns``) one after another, each on its
    rows (:func:`_sampled_rows`), BLAS on one thread: [(column, weights, intercept)]."""
    from threadpoolctl import threadpool_limits

    fitted = []
    with threadpool_limits(1, user_api="blas"):
        for at, column in enumerate(columns.tolist()):
            rows, weights = _sampled_rows(y[:, at], negatives, negatives_per_positive,
                                          seed=column)
            fitted.append(_fit_label(x if rows is None else x[rows],
                                     y[:, at] if rows is None else y[rows, at], c,
                                     prune_below, column, tol, weights))
    return fitted


def _fit_label(x, y: np.ndarray, c: float, prune_below: float, column: int, tol: float,
               sample_weight: np.ndarray | None = None):
    """One label's regression: (column, sparse weights [1, features], intercept), classes
    balanced (or by ``sample_weight`` when given). liblinear solves the dual problem when
    there are fewer questions than features, as with TF-IDF: the same regression (weights
    within 1e-4 on biology), 7x less CPU."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, solver="liblinear", random_state=0, tol=tol,
                               class_weight="balanced" if sample_weight is None else None,
                               dual=x.shape[0] < x.shape[1])
    model.fit(x, y, sample_weight=sample_weight)
    weights = model.coef_[0].astype(np.float32)
    weights[np.abs(weights) < prune_below] = 0
    return column, sparse.csr_matrix(weights), float(model.intercept_[0])


class TfidfLinear(TagModel):
    """TF-IDF (words 1-2 grams) -> one-vs-rest logistic regression, for clusters and tags."""

    family = "tfidf_linear"
    predicts = frozenset({Target.CLUSTERS, Target.TAGS})
    engine = "scikitlearn"
    shares_state = True
    params_class = TfidfLinearParams
    params: TfidfLinearParams

    def fit(self, data: TrainingData, *, checkpoint: Path | None = None,
            log: logging.Logger | None = None) -> TrainResult:
        p = self.params
        self.vectorizer = new_vectorizer(p.max_features)
        x = self.vectorizer.fit_transform(question_text(data.train.titles, data.train.bodies))
        if log:
            log.info("tfidf_linear: %d questions x %d features", *x.shape)
        self.cluster_model = LabelwiseLogistic.fit(x, data.train.clusters, p.C, log,
                                                   "clusters", p.prune_below, n_jobs=p.threads,
                                                   tol=p.tol)
        self.tag_model = LabelwiseLogistic.fit(
            x, data.train.tags, p.C, log, "tags", p.prune_below, self._tag_groups(x, data.train),
            p.threads, p.negatives_per_tag if self._within_clusters else 0,
            p.negatives_per_positive)
        self.__dict__.pop("_cluster_tag_models", None)  # a refit's regressions are new
        return TrainResult()

    @property
    def _within_clusters(self) -> bool:
        learning = self.params.tag_learning
        return learning == "within_clusters" or (
            learning == "auto" and self.labels.n_tags > WITHIN_CLUSTERS_ABOVE)

    def _tag_groups(self, x, train) -> list[LabelGroup] | None:
        """Each cluster's tags with the training questions of that cluster and those the
        cluster model routes there (its ``routed_clusters`` best), when tags learn within their
        cluster: the routed ones are the confusable negatives a tag meets at prediction."""
        if not self._within_clusters:
            return None
        member = train.clusters > 0
        routed = self.params.routed_clusters
        if routed:
            scores = self.cluster_model.scores(x)
            top = np.argpartition(-scores, min(routed, scores.shape[1]) - 1, axis=1)[:, :routed]
            np.put_along_axis(member, top, True, axis=1)
        tag_cluster = np.asarray(self.labels.tag_cluster)
        return [LabelGroup(np.flatnonzero(tag_cluster == k), np.flatnonzero(member[:, k]))
                for k in range(self.labels.n_clusters)]

    def predict_scores(self, inputs: Inputs) -> Scores:
        x = self.vectorizer.transform(question_text(inputs.titles, inputs.bodies))
        clusters = self.cluster_model.scores(x)
        if not self._within_clusters:
            return Scores(clusters=clusters, tags=self.tag_model.scores(x))
        beam = self.params.scored_clusters
        if not beam or beam >= self.labels.n_clusters:
            tags = self.tag_model.scores(x)
            tags *= clusters[:, np.asarray(self.labels.tag_cluster)]
            return Scores(clusters=clusters, tags=tags)
        # P(cluster) x P(tag | cluster) for the beam's clusters only: no [questions, labels]
        # pass beyond the zeros
        tags = np.zeros((x.shape[0], self.labels.n_tags), np.float32)
        in_beam = np.zeros(clusters.shape, bool)
        np.put_along_axis(in_beam, np.argpartition(-clusters, beam - 1, axis=1)[:, :beam],
                          True, axis=1)
        if self.params.beam_floor:
            in_beam &= clusters >= self.params.beam_floor
            in_beam[np.arange(len(clusters)), clusters.argmax(axis=1)] = True
        for cluster, (columns, model) in enumerate(self._cluster_tag_models):
            rows = np.flatnonzero(in_beam[:, cluster])
            if len(rows) and len(columns):
                tags[np.ix_(rows, columns)] = (model.scores(x[rows])
                                               * clusters[rows, cluster][:, None])
        return Scores(clusters=clusters, tags=tags)

    @functools.cached_property
    def _cluster_tag_models(self) -> list[tuple[np.ndarray, LabelwiseLogistic]]:
        """Each cluster's tag columns and their regressions, for scoring within the beam."""
        tag_cluster = np.asarray(self.labels.tag_cluster)
        return [(columns, self.tag_model.restricted(columns)) for columns in
                (np.flatnonzero(tag_cluster == k) for k in range(self.labels.n_clusters))]

    def save_state(self, directory: Path) -> None:
        save_vectorizer(self.vectorizer, directory, "tfidf")
        self.cluster_model.save(directory, "clusters")
        self.tag_model.save(directory, "tags")

    def load_state(self, directory: Path) -> None:
        self.vectorizer = load_vectorizer(directory, "tfidf")
        self.cluster_model = LabelwiseLogistic.load(directory, "clusters")
        self.tag_model = LabelwiseLogistic.load(directory, "tags")
        self.__dict__.pop("_cluster_tag_models", None)
