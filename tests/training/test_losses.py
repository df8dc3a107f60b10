import keras
import numpy as np
import pytest

from training.dataset import MASKED, OUTLIER
from training.losses import PartialLabelLoss

PROBS = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]], dtype=np.float32)


def _per_segment(loss: PartialLabelLoss, labels: list[int]) -> np.ndarray:
    return np.asarray(loss.call(np.array(labels), PROBS))


def test_known_labels_give_the_sparse_cross_entropy() -> None:
    labels = np.array([0, 1, 2])
    ours = float(PartialLabelLoss()(labels, PROBS))
    keras_ce = float(keras.losses.SparseCategoricalCrossentropy()(labels, PROBS))
    assert ours == pytest.approx(keras_ce, rel=1e-6)


def test_a_masked_segment_adds_nothing() -> None:
    per_segment = _per_segment(PartialLabelLoss(exposure=0.5), [0, MASKED, 2])
    assert per_segment[1] == 0.0
    assert per_segment[0] == pytest.approx(-np.log(0.7), rel=1e-6)


def test_an_outlier_is_pulled_towards_uniform_with_the_exposure_weight() -> None:
    per_segment = _per_segment(PartialLabelLoss(exposure=0.5), [OUTLIER, OUTLIER, OUTLIER])
    expected = 0.5 * -np.log(PROBS).mean(axis=1)
    np.testing.assert_allclose(per_segment, expected, rtol=1e-6)
    assert _per_segment(PartialLabelLoss(), [OUTLIER, 1, 2])[0] == 0.0  # no exposure: ignored


def test_the_loss_survives_saving() -> None:
    restored = keras.losses.deserialize(keras.losses.serialize(PartialLabelLoss(exposure=0.25)))
    assert isinstance(restored, PartialLabelLoss) and restored.exposure == 0.25


def test_a_negative_weight_is_refused() -> None:
    with pytest.raises(ValueError, match="exposure must be >= 0, got -1"):
        PartialLabelLoss(exposure=-1)


def test_an_outlier_target_can_leave_classes_out() -> None:
    per_segment = _per_segment(PartialLabelLoss(exposure=0.5, excluded=(2,)), [OUTLIER, OUTLIER, OUTLIER])
    np.testing.assert_allclose(per_segment, 0.5 * -np.log(PROBS[:, :2]).mean(axis=1), rtol=1e-6)
    restored = keras.losses.deserialize(keras.losses.serialize(PartialLabelLoss(exposure=0.5, excluded=(2,))))
    assert restored.excluded == (2,)
    with pytest.raises(ValueError, match="indices >= 0"):
        PartialLabelLoss(excluded=(-1,))
