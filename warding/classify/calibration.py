"""Calibration of the violating score and the choice of the decision threshold.

Both are fitted on *out-of-fold* scores of the training accounts (see
:mod:`warding.classify.training`): every score comes from a model that never saw the account.
"""

from __future__ import annotations

import math

import numpy as np

from warding.classify.baseline import sigmoid

#: The decision threshold keeps this share of the training accounts' violating posts (with
#: text to judge) flagged, on their out-of-fold scores. The target is 0.85 on accounts never
#: seen; the margin covers the drop from out-of-fold to new accounts.
THRESHOLD_RECALL = 0.88


def fit_platt(z: np.ndarray, y: np.ndarray, max_iter: int = 100) -> tuple[float, float]:
    """Platt scaling ``sigmoid(a * z + b)`` by Newton's method, with Platt's target smoothing.

    Returns (1, 0) -- no change -- when ``y`` holds a single class.
    """
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return 1.0, 0.0
    t = np.where(y, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss(p: np.ndarray) -> float:
        s = p[0] * z + p[1]
        return float(np.sum(np.logaddexp(0.0, s) - t * s))

    params = np.array([1.0, 0.0])
    current = loss(params)
    for _ in range(max_iter):
        s = params[0] * z + params[1]
        prob = sigmoid(s)
        grad = np.array([np.sum((prob - t) * z), np.sum(prob - t)])
        w = prob * (1.0 - prob)
        hess = np.array([[np.sum(w * z * z), np.sum(w * z)], [np.sum(w * z), np.sum(w)]])
        step = np.linalg.solve(hess + 1e-9 * np.eye(2), grad)
        scale = 1.0
        while scale > 1e-8:
            candidate = params - scale * step
            value = loss(candidate)
            if value <= current:
                break
            scale /= 2.0
        else:
            break
        done = abs(current - value) <= 1e-12 * max(1.0, abs(current))
        params, current = candidate, value
        if done:
            break
    return float(params[0]), float(params[1])


def choose_threshold(violating_scores: np.ndarray, recall: float = THRESHOLD_RECALL) -> float:
    """The highest threshold (rounded down to 4 decimals) at which at least ``recall`` of the
    given out-of-fold scores of violating examples are still at or above it; 0.5 without
    scores.

    Scores are calibrated to the training data's mix, where violating posts are about 2 %,
    so the threshold is a small number: it is a point on the precision/recall curve, chosen
    for recall, and the model card gives what it means at a platform's prevalence.
    """
    if np.asarray(violating_scores).size == 0:
        return 0.5
    return math.floor(recall_cut(violating_scores, recall) * 10_000) / 10_000


def recall_cut(violating_scores: np.ndarray, recall: float = THRESHOLD_RECALL) -> float:
    """The highest of the given scores (any scale: calibrated or log-odds) at which at least
    ``recall`` of them are at or above it, unrounded; the scores must not be empty."""
    scores = np.sort(np.asarray(violating_scores, dtype=np.float64))
    keep = math.ceil(recall * scores.size - 1e-9)  # scores that must stay at or above it
    return float(scores[scores.size - max(keep, 1)])
