"""``aodraw infer --latency`` and ``--export onnx``: how fast a detector runs one image, and the same network exported
to ONNX and run by onnxruntime on the CPU, its detections checked against PyTorch's.

Latency is the model alone at batch 1 (the data preprocessor, the network, box decoding and NMS; file reading and the
test pipeline are excluded, they overlap in loader workers): ``warmup`` untimed runs, then ``runs`` timed ones over
the prepared images in turn (CUDA synchronised around each). FPS is 1000 / mean latency in ms.

ONNX: the network up to the head's raw outputs (MMDetection's ``tensor`` mode) is exported with a fixed input shape
(the test pipeline pads to one size); onnxruntime's outputs go through the head's own ``predict_by_feat`` (box
decoding, NMS), so the two runs differ only in the network's arithmetic. Single-stage detectors only.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from mmengine.dataset import pseudo_collate

from plumbing.errors import BadInputError

BOX_ATOL, SCORE_ATOL = 0.05, 1e-4  # pixels (at 640 px), score units: float32 arithmetic in two runtimes


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _percentiles_ms(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1000
    mean = float(ms.mean())
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)), "mean_ms": mean,
            "fps": 1000.0 / mean}


def measure_latency(model, samples: list[dict], warmup: int = 10, runs: int = 50) -> dict:
    """Time ``model`` on ``samples`` (prepared test-pipeline samples) at batch 1: ``warmup`` untimed runs, then
    ``runs`` timed ones cycling through the samples. Returns {batch_size, warmup, runs, p50_ms, p95_ms, mean_ms, fps
    (wall clock), cpu_p50_ms (the process's CPU time per run: on a machine shared with other work, the cost of the
    run itself; with several threads their sum), device, threads, input_shape (C, H, W of the network's input)}.
    Raises BadInputError without samples or runs."""
    if not samples or runs < 1 or warmup < 0:
        raise BadInputError(f"--latency: needs images and --runs >= 1, --warmup >= 0 (got {len(samples)} images, "
                            f"runs {runs}, warmup {warmup})")
    device = next(model.parameters()).device
    times, cpu_times, shape = [], [], None
    with torch.inference_mode():
        for i in range(warmup + runs):
            _synchronise(device)
            start, cpu_start = time.perf_counter(), time.process_time()
            data = model.data_preprocessor(pseudo_collate([samples[i % len(samples)]]), False)
            model(**data, mode="predict")
            _synchronise(device)
            if i >= warmup:
                times.append(time.perf_counter() - start)
                cpu_times.append(time.process_time() - cpu_start)
            shape = list(data["inputs"].shape[1:])
    return {"batch_size": 1, "warmup": warmup, "runs": runs, **_percentiles_ms(times),
            "cpu_p50_ms": float(np.percentile(np.asarray(cpu_times) * 1000, 50)), "device": device.type,
            "threads": torch.get_num_threads(), "input_shape": shape}


class _RawOutputs(torch.nn.Module):
    """The detector's network as a module returning a flat tuple of the head's raw output tensors."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, inputs):
        return tuple(t for level in self.model._forward(inputs) for t in level)


def _head(model):
    head = getattr(model, "bbox_head", None)
    if head is None or getattr(model, "roi_head", None) is not None or not hasattr(head, "predict_by_feat"):
        raise BadInputError("--export onnx: only single-stage detectors (a bbox_head, no RoI head) are supported")
    return head


def export_onnx(model, sample: dict, path: str | Path) -> Path:
    """Export ``model``'s network (input: the preprocessed ``sample``'s shape) to ``path`` as ONNX (opset 17)."""
    _head(model)
    data = model.data_preprocessor(pseudo_collate([sample]), False)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.inference_mode(False), torch.no_grad():
        torch.onnx.export(_RawOutputs(model).eval(), (data["inputs"],), str(path), input_names=["inputs"],
                          opset_version=17, dynamo=False)
    return path


def _detections(head, outputs: list, levels: int, metas: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    groups = [outputs[k:k + levels] for k in range(0, len(outputs), levels)]
    result = head.predict_by_feat(*groups, batch_img_metas=metas, rescale=True)[0]
    return (result.bboxes.float().cpu().numpy(), result.scores.float().cpu().numpy(),
            result.labels.cpu().numpy())


def same_detections(a: tuple, b: tuple, box_atol: float = BOX_ATOL, score_atol: float = SCORE_ATOL) -> dict:
    """Compare two detection sets (boxes x1 y1 x2 y2, scores, labels): each detection of either set must have one in
    the other with its label, boxes within ``box_atol`` px and score within ``score_atol`` (order free: near-equal
    scores may swap), except at the cut: detections scoring within ``score_atol`` of the lowest score either set
    kept may fall on either side of a score threshold or detection limit. Returns {count (of ``a``), compared,
    matched, max_box_diff, max_score_diff, match}."""
    boxes_a, scores_a, labels_a = a
    boxes_b, scores_b, labels_b = b
    floor = max(scores_a.min(initial=np.inf), scores_b.min(initial=np.inf)) + score_atol
    floor = -np.inf if not (len(scores_a) and len(scores_b)) else floor
    must_b = scores_b > floor
    matched, compared, box_diff, score_diff = 0, 0, 0.0, 0.0
    free = np.ones(len(boxes_b), bool)
    for box, score, label in zip(boxes_a, scores_a, labels_a):
        diff = np.abs(boxes_b - box).max(axis=1) if len(boxes_b) else np.zeros(0)
        ok = free & (labels_b == label) & (diff <= box_atol) & (np.abs(scores_b - score) <= score_atol)
        compared += bool(score > floor)
        if ok.any():
            j = int(np.flatnonzero(ok)[np.argmin(diff[ok])])
            free[j] = False
            matched += bool(score > floor)
            box_diff, score_diff = max(box_diff, float(diff[j])), max(score_diff, float(abs(scores_b[j] - score)))
    unmatched_b = int((free & must_b).sum())
    return {"count": len(boxes_a), "compared": compared, "matched": matched, "max_box_diff": box_diff,
            "max_score_diff": score_diff, "match": matched == compared and unmatched_b == 0}


def check_onnx(model, samples: list[dict], path: str | Path, warmup: int = 2, runs: int = 10) -> dict:
    """Run the exported network ``path`` with onnxruntime (CPU) on ``samples``, decode with the head, and compare
    with PyTorch's detections and raw outputs. Returns {file, provider, images, match (all images), max_output_diff,
    max_box_diff, max_score_diff, detections, matched, and onnxruntime latency p50_ms, p95_ms, mean_ms, fps}."""
    import onnxruntime

    head = _head(model)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()  # the same threads as PyTorch, for a fair comparison
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    wrapper = _RawOutputs(model).eval()
    report = {"file": str(path), "provider": "CPUExecutionProvider", "images": len(samples), "match": True,
              "max_output_diff": 0.0, "max_box_diff": 0.0, "max_score_diff": 0.0, "detections": 0, "compared": 0,
              "matched": 0}
    with torch.inference_mode():
        first = model.data_preprocessor(pseudo_collate(samples[:1]), False)["inputs"]
        levels = len(model._forward(first)[0])  # feature levels: each output group holds one tensor per level
        for sample in samples:
            data = model.data_preprocessor(pseudo_collate([sample]), False)
            metas = [s.metainfo for s in data["data_samples"]]
            expected = wrapper(data["inputs"])
            got = [torch.from_numpy(o) for o in session.run(None, {"inputs": data["inputs"].cpu().numpy()})]
            report["max_output_diff"] = max(report["max_output_diff"], *(float((g - e.cpu()).abs().max())
                                                                           for g, e in zip(got, expected)))
            ours = _detections(head, list(expected), levels, metas)
            theirs = _detections(head, got, levels, metas)
            same = same_detections(ours, theirs)
            report["match"] &= same["match"]
            report["detections"] += same["count"]
            report["compared"] += same["compared"]
            report["matched"] += same["matched"]
            report["max_box_diff"] = max(report["max_box_diff"], same["max_box_diff"])
            report["max_score_diff"] = max(report["max_score_diff"], same["max_score_diff"])
        times = []
        for i in range(warmup + runs):
            data = model.data_preprocessor(pseudo_collate([samples[i % len(samples)]]), False)
            start = time.perf_counter()
            outputs = [torch.from_numpy(o) for o in session.run(None, {"inputs": data["inputs"].cpu().numpy()})]
            _detections(head, outputs, levels, [s.metainfo for s in data["data_samples"]])
            if i >= warmup:
                times.append(time.perf_counter() - start)
    return {**report, **_percentiles_ms(times)}
