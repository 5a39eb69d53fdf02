"""Regression metrics for score predictors, on the raw and the signed-log scale."""

from __future__ import annotations

import numpy as np

SCORE_BUCKETS = ((-np.inf, 0, "below 0"), (0, 1, "0"), (1, 5, "1-4"), (5, 20, "5-19"),
                 (20, 100, "20-99"), (100, np.inf, "100+"))
AGE_BUCKETS = ((0, 30, "< 30 days"), (30, 365, "30 days - 1 year"), (365, 5 * 365, "1-5 years"),
               (5 * 365, np.inf, "5+ years"))


def log_scale(x: np.ndarray) -> np.ndarray:
    """sign(s) * log1p(|s|): the scale the ``_log`` metrics and the plots read scores on (the
    heavy tail compressed, zero and sign kept)."""
    return np.sign(x) * np.log1p(np.abs(x))


def spearman(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Rank correlation (NaN when either side is constant)."""
    from scipy.stats import spearmanr

    if len(truth) < 2 or np.ptp(truth) == 0 or np.ptp(predicted) == 0:
        return float("nan")
    return float(spearmanr(truth, predicted).statistic)


def _scale(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    error = predicted - truth
    total = float(((truth - truth.mean()) ** 2).sum()) if len(truth) else 0.0
    return {"rmse": float(np.sqrt(np.mean(error ** 2))) if len(truth) else float("nan"),
            "mae": float(np.mean(np.abs(error))) if len(truth) else float("nan"),
            "r2": 1 - float((error ** 2).sum()) / total if total > 0 else float("nan"),
            "spearman": spearman(truth, predicted)}


def regression_metrics(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """RMSE, MAE, R² and Spearman on the raw scale, and the same with ``_log`` on the
    signed-log scale (both sides transformed)."""
    truth, predicted = np.asarray(truth, float), np.asarray(predicted, float)
    raw = _scale(truth, predicted)
    log = _scale(log_scale(truth), log_scale(predicted))
    return raw | {f"{k}_log": v for k, v in log.items()}


def bucket_errors(truth: np.ndarray, predicted: np.ndarray, by: np.ndarray,
                  buckets: tuple[tuple[float, float, str], ...]) -> list[dict]:
    """Questions, RMSE and MAE (raw and log) per bucket of ``by`` (e.g. true score, age)."""
    rows = []
    for lo, hi, name in buckets:
        inside = (by >= lo) & (by < hi)
        if not inside.any():
            continue
        metrics = regression_metrics(truth[inside], predicted[inside])
        rows.append({"bucket": name, "questions": int(inside.sum()),
                     "rmse": metrics["rmse"], "mae": metrics["mae"],
                     "rmse_log": metrics["rmse_log"], "mean_error": float(
                         np.mean(predicted[inside] - truth[inside]))})
    return rows
