"""Does the accelerator compute what the CPU computes? Placement proves where the model runs, not that
the numbers are right: tensorflow-metal has trained with every variable on the GPU and the learning rate
ignored, or a fused MatMul + BiasAdd + Relu off by tens of units (see docs/numerics.md).

The check builds two copies of the configured model with identical initial weights, one on a reference
device (the CPU) and one on the target, and runs on both, on identical batches and inside `tf.function`
(graph mode, as `model.fit` runs, so grappler's and the plug-in's fusions happen): the forward pass, then
a few optimizer steps. It compares the outputs, the losses and the weight updates, and probes the
learning rate: from the same weights, one step at 2*lr must move the weights twice as far as one at lr.

The comparison, the tolerance, the learning-rate probe and the report are this module (`compare_devices`),
whatever the backend; what differs is how one copy runs on one device: tensorflow_numerics.py runs it with
`tf.device` and `tf.function` (graph mode, as `fit` runs), torch_numerics.py in `keras.device` with torch's
autograd, as Keras's torch trainer does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

# float32 has a unit roundoff of 6e-8. Two devices run different kernels (summation order, fused
# multiply-add), so a Dense layer with K inputs may differ by up to ~K * 6e-8 relative; for the widths
# used here (K <= a few hundred) and three optimizer steps that stays below 1e-4. RTOL leaves 10x
# headroom above that, and is still 100x below the faults reported on Metal (a 1% error in an
# activation, a learning rate that is ignored: 50% off in the weight update, outputs off by units).
RTOL = 1e-3
ATOL = 1e-6  # for tensors that are all but zero (e.g. the update of a unit that never fires)
STEPS = 3
# Adam's and SGD's first step is linear in the learning rate, so 2*lr must give 2x the step, up to roundoff.
LR_RATIO = 2.0
LR_RATIO_TOLERANCE = 0.1
SETTINGS = ("auto", "true", "false")


class NumericsError(RuntimeError):
    """The target device disagrees with the reference; the message says what, by how much, and the cures."""


@dataclass(frozen=True)
class Recipe:
    """How to make the configured model and optimizer, fresh, as many times as the check needs."""

    build_model: Callable[[], Any]  # a built, uncompiled Keras model
    make_optimizer: Callable[[float], Any]  # learning rate -> a fresh Keras optimizer
    loss: Any  # a Keras loss name or callable (per-sample)
    learning_rate: float


@dataclass
class Difference:
    tensor: str  # e.g. "update of dense/kernel", "loss at step 2", "outputs"
    abs_diff: float  # largest |target - reference| over the tensor's elements
    rel_diff: float  # abs_diff / largest |reference| (normwise, so tiny elements do not dominate)
    scale: float  # largest |reference|

    @property
    def within_tolerance(self) -> bool:
        return self.abs_diff <= ATOL + RTOL * self.scale

    def describe(self) -> str:
        return f"{self.tensor} differ by {self.abs_diff:.3g} (relative {self.rel_diff:.3g})"


@dataclass
class Agreement:
    reference: str  # the reference device, e.g. "/CPU:0"
    target: str  # the device checked, e.g. "/GPU:0"
    largest: Difference  # the largest relative disagreement found
    failures: list = field(default_factory=list)  # one sentence per tensor or probe that failed
    lr_ratio: dict = field(default_factory=dict)  # device -> how much farther a 2*lr step moved the weights
    seconds: float = 0.0
    note: str = ""  # what the record must say besides the numbers, e.g. that there was no second device

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def target_lr_ratio(self) -> float:
        return list(self.lr_ratio.values())[-1]  # the target's is entered last (see compare_devices)

    def summary(self) -> str:
        if self.passed:
            return (
                f"{self.target} agrees with {self.reference} (largest: {self.largest.describe()}, "
                f"{tolerance_text()}; 2*lr step = {self.target_lr_ratio:.2f}x)"
            )
        more = f" (and {len(self.failures) - 1} more)" if len(self.failures) > 1 else ""
        return f"{self.target} disagrees with {self.reference}: {self.failures[0]}{more}, {tolerance_text()}"

    def record(self) -> dict:
        """The check as metrics.json and the doctor's --json carry it."""
        record = {
            "ran": True,
            "passed": self.passed,
            "reference": self.reference,
            "target": self.target,
            "largest_difference": asdict(self.largest) | {"within_tolerance": self.largest.within_tolerance},
            "tolerance": {"rtol": RTOL, "atol": ATOL},
            "lr_ratio": self.lr_ratio,
            "failures": self.failures,
            "seconds": round(self.seconds, 3),
        }
        return record | {"note": self.note} if self.note else record


def tolerance_text() -> str:
    return f"tolerance {RTOL:g} relative + {ATOL:g}"


def not_run(reason: str) -> dict:
    return {"ran": False, "passed": None, "reason": reason}


def parse_setting(value) -> str:
    """device.check_numerics as given on the command line or in YAML (where true/false become booleans)."""
    text = str(value).lower()
    if text not in SETTINGS:
        raise ValueError(f"device.check_numerics={value} is not one of {', '.join(SETTINGS)}.")
    return text


def wanted(setting: str, target_name: str) -> bool:
    """auto: on for an accelerator (metal, cuda), off on the CPU, which is the reference itself."""
    return target_name != "cpu" if setting == "auto" else setting == "true"


def failure_message(result: Agreement, target_name: str, stack_id: str, known: list, alternatives: list) -> str:
    """One line: what disagreed by how much, what is known to cause it with this stack, and the cures."""
    causes = "; ".join(known) if known else "none reported"
    others = " or ".join(f"tensorflow_stack={other}" for other in alternatives)
    return (
        f"numerics: {target_name} {result.summary()}. Known for the {stack_id} stack: {causes}. Cures: train on "
        f"the CPU (device=cpu), generate the project with another stack ({others}), or set "
        f"device.check_numerics=false to train anyway."
    )


def first_batches(x, y, batch_size: int, count: int = STEPS) -> list:
    """The first `count` training batches as (x, y) pairs: what the check feeds both devices."""
    return [(x[i : i + batch_size], y[i : i + batch_size]) for i in range(0, batch_size * count, batch_size)]


def compare(name: str, reference, target) -> Difference:
    reference = np.asarray(reference, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    scale = float(np.max(np.abs(reference))) if reference.size else 0.0
    if reference.shape != target.shape:
        return Difference(f"{name} (shape {target.shape} vs {reference.shape})", float("inf"), float("inf"), scale)
    abs_diff = float(np.max(np.abs(target - reference))) if reference.size else 0.0
    if not np.all(np.isfinite(target)):
        abs_diff = float("inf")
    rel_diff = abs_diff / scale if scale > 0 else (0.0 if abs_diff == 0 else float("inf"))
    return Difference(name, abs_diff, rel_diff, scale)


def variable_name(variable) -> str:
    # Keras 3: path "sequential/dense/kernel"; Keras 2: name "dense/kernel:0". Without the model's name.
    path = getattr(variable, "path", None)
    return path.split("/", 1)[-1] if path else variable.name.removesuffix(":0")


def step_length(result: dict) -> float:
    return float(np.sqrt(sum(float(np.sum(np.square(update))) for _, update in result["first_update"])))


def device_kind(device: str) -> str:
    """'/CPU:1' -> 'CPU', '/GPU:0' -> 'GPU' (TensorFlow); 'cpu' -> 'CPU', 'mps:0' -> 'MPS' (torch)."""
    return device.strip("/").split(":")[0].upper()


def compare_devices(
    run_copy: Callable,
    recipe: Recipe,
    weights: list,
    batches: list,
    devices: tuple,
    target_recipe: Recipe | None = None,
    started: float | None = None,
    note: str = "",
) -> Agreement:
    """The check, whatever the backend: `run_copy(recipe, weights, batches, device, learning_rate, steps)` runs
    one copy from `weights` on one device (tensorflow_numerics.run, torch_numerics.run) and returns its
    outputs, losses and updates. The reference copy (devices[0]) and the target copy (devices[1],
    `target_recipe` if given) run STEPS steps at lr, then one step at 2*lr each for the learning-rate probe;
    everything is compared here."""
    started = time.perf_counter() if started is None else started
    reference_device, target_device = devices
    sides = ((reference_device, recipe), (target_device, target_recipe or recipe))
    lr = recipe.learning_rate
    reference, target = (run_copy(side, weights, batches, device, lr, STEPS) for device, side in sides)
    # the learning-rate probe: one step at 2*lr against the first step at lr, from the same weights
    doubled = [run_copy(side, weights, batches, device, 2 * lr, 1) for device, side in sides]

    differences = [compare("outputs", reference["outputs"], target["outputs"])]
    differences += [
        compare(f"loss at step {i}", ref, got)
        for i, (ref, got) in enumerate(zip(reference["losses"], target["losses"], strict=True), 1)
    ]
    # Fresh builds name their layers apart (dense, dense_1, ...): pair the variables by position.
    differences += [
        compare(f"update of {name}", ref, got)
        for (name, ref), (_, got) in zip(reference["updates"], target["updates"], strict=True)
    ]
    largest_first = sorted(differences, key=lambda d: d.rel_diff, reverse=True)
    failures = [d.describe() for d in largest_first if not d.within_tolerance]

    # Where one device is both reference and target (torch on a CPU-only machine), its two copies are told apart.
    labels = devices if reference_device != target_device else (reference_device, f"{target_device} (second copy)")
    lr_ratio = {}
    for label, single, double in zip(labels, (reference, target), doubled, strict=True):
        lr_ratio[label] = round(step_length(double) / step_length(single), 4) if step_length(single) else float("inf")
        if abs(lr_ratio[label] - LR_RATIO) > LR_RATIO_TOLERANCE:
            failures.insert(
                0,
                f"a step at 2*lr moved the weights {lr_ratio[label]:.2f}x as far as a step at lr on {label} "
                f"(expected {LR_RATIO:g}x): the learning rate is not applied as set",
            )
    return Agreement(
        reference=reference_device,
        target=target_device,
        largest=largest_first[0],
        failures=failures,
        lr_ratio=lr_ratio,
        seconds=time.perf_counter() - started,
        note=note,
    )
