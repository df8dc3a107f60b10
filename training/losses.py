"""The heads' training loss: cross-entropy over partial labels, with optional outlier exposure.

Labels are class indices with two reserved values (:mod:`training.dataset`): :data:`MASKED` (the
song has no label for this task: it adds nothing, so a song labelled for one task only trains that
head) and :data:`OUTLIER` (the song is by nobody in the label set: with outlier exposure it adds
the cross-entropy to the uniform distribution, teaching the head to be unsure on such music;
Hendrycks et al., "Deep Anomaly Detection with Outlier Exposure", ICLR 2019).
"""

from __future__ import annotations

from typing import Any, Final

import keras
from keras import ops

from training.dataset import OUTLIER

_EPSILON: Final = 1e-7  # keeps log(p) finite where a softmax underflows to 0


@keras.saving.register_keras_serializable(package="songid")
class PartialLabelLoss(keras.losses.Loss):
    """Per segment: ``-log p[y]`` for a label ``y >= 0``; 0 for :data:`MASKED`;
    ``exposure * mean_c(-log p[c])`` for :data:`OUTLIER`, over every class ``c`` but the
    ``excluded`` ones. Averaged over the batch.

    With every label ``>= 0`` this is Keras' sparse categorical cross-entropy.

    Args:
        exposure: weight of the outlier term (Hendrycks et al. used 0.5); 0 ignores outliers.
        excluded: class indices the outlier target leaves out (an outlier is uniform over the
            others: singing in an unknown language is some language, not "no vocals").
    """

    def __init__(
        self,
        exposure: float = 0.0,
        excluded: tuple[int, ...] = (),
        name: str = "partial_label_crossentropy",
        **kwargs: Any,
    ) -> None:
        if exposure < 0:
            raise ValueError(f"exposure must be >= 0, got {exposure}")
        if any(c < 0 for c in excluded):
            raise ValueError(f"excluded classes must be indices >= 0, got {excluded}")
        super().__init__(name=name, **kwargs)
        self.exposure = float(exposure)
        self.excluded = tuple(int(c) for c in excluded)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y = ops.reshape(ops.cast(y_true, "int32"), (-1,))
        log_p = ops.log(ops.clip(y_pred, _EPSILON, 1.0))
        picked = ops.take_along_axis(log_p, ops.expand_dims(ops.maximum(y, 0), -1), axis=-1)[:, 0]
        if self.excluded:
            n_classes = int(y_pred.shape[-1])
            keep = ops.convert_to_tensor(
                [float(c not in self.excluded) for c in range(n_classes)], log_p.dtype
            )
            uniform = -ops.sum(log_p * keep, axis=-1) / ops.sum(keep)
        else:
            uniform = -ops.mean(log_p, axis=-1)
        zero = ops.zeros_like(uniform)
        outlier = ops.where(ops.equal(y, OUTLIER), self.exposure * uniform, zero)
        return ops.where(y >= 0, -picked, outlier)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "exposure": self.exposure, "excluded": list(self.excluded)}
