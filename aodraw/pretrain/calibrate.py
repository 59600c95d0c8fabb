"""``aodraw pretrain calibrate``: camera parameters for the unprocessing, measured from real RAW files.

Per file: the colour matrix (LibRaw's ``rgb_xyz_matrix``, or, where a file has none such as many DNGs, the inverse
of its ``color_matrix`` camera -> sRGB), the as-shot white balance (``camera_whitebalance``, relative to green),
black and white levels, and the noise: every Bayer plane is cut into 8 x 8 blocks; a block's noise variance is half
the variance of differences of horizontal neighbours (smooth shading cancels), its signal the block mean above black;
blocks are binned by signal and variance = shot * signal + read is fitted (weighted least squares) first on the bin
medians, then on the bin means of the blocks below 3x that first fit (textured blocks dropped).
Across files: white-balance range = [min, max] of the files (+-10% around a single value), log-shot range =
[min, max] (+-log 2 around a single value), log read fitted linearly on log shot when the files span several noise
levels (otherwise the paper's slope 2.18 through the measured point). Calibrate on files over the ISO range the
detector will see (e.g. the AODRaw training ARWs): the pre-training then draws noise over that range.
"""
from __future__ import annotations

import math
import os
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from tqdm import tqdm

from aodraw.io import RAW_EXTS, is_raw
from aodraw.pretrain.camera import SRGB_TO_XYZ, Camera
from aodraw.raw import pack, read_raw
from plumbing.errors import BadInputError

BLOCK = 8
BINS = 24


def list_raw_files(raw_dir: str | os.PathLike) -> list[Path]:
    """The RAW files (``RAW_EXTS``, see ``is_raw``) directly in ``raw_dir``, sorted, hidden files skipped.

    Raises:
        BadInputError: ``raw_dir`` is not a folder or holds no RAW file."""
    root = Path(raw_dir)
    if not root.is_dir():
        raise BadInputError(f"--raw-dir: {root} is not a folder")
    files = sorted(p for p in root.iterdir() if is_raw(p) and not p.name.startswith("."))
    if not files:
        raise BadInputError(f"--raw-dir: no RAW files ({', '.join(RAW_EXTS)}) in {root}")
    return files


def fit_noise(plane: np.ndarray, black: float, white: float) -> tuple[float, float]:
    """(shot, read) of one Bayer plane in units of the signal above black (1 = white level)."""
    h, w = plane.shape[0] // BLOCK * BLOCK, plane.shape[1] // BLOCK * BLOCK
    blocks = plane[:h, :w].reshape(h // BLOCK, BLOCK, w // BLOCK, BLOCK).swapaxes(1, 2).reshape(-1, BLOCK, BLOCK)
    clipped = (blocks.min(axis=(1, 2)) <= 0) | (blocks.max(axis=(1, 2)) >= white)
    scaled = (blocks[~clipped].astype(np.float64) - black) / (white - black)
    if len(scaled) < 2 * BINS:
        raise BadInputError(f"too few unclipped {BLOCK}x{BLOCK} blocks ({len(scaled)}) to measure noise")
    means = scaled.mean(axis=(1, 2))
    variances = np.diff(scaled, axis=2).var(axis=(1, 2)) / 2
    edges = np.quantile(means, np.linspace(0, 1, BINS + 1))
    dof = BLOCK * (BLOCK - 1) - 1
    median_bias = (1 - 2 / (9 * dof)) ** 3  # median / mean of a chi-square variable with dof degrees of freedom
    # First a robust fit on bin medians (textured blocks are a minority per bin), then, with the blocks far above
    # that fit dropped as texture, a fit on bin means: means mix levels linearly, so a bin spanning two flat
    # levels still lies on the line.
    shot, read = _fit_bins(means, variances, edges, lambda v: np.median(v) / median_bias)
    flat = variances < 3 * (shot * means + read)
    shot, read = _fit_bins(means[flat], variances[flat], edges, np.mean)
    return max(float(shot), 1e-9), max(float(read), 1e-12)


def _fit_bins(means: np.ndarray, variances: np.ndarray, edges: np.ndarray, reduce) -> tuple[float, float]:
    """variance = shot * signal + read, weighted least squares on one point per signal bin."""
    points = []
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (means >= low) & (means <= high)
        if inside.sum() >= 8:
            points.append((means[inside].mean(), reduce(variances[inside])))
    if len(points) < 2:
        raise BadInputError("too few flat blocks to fit the noise model")
    signal, variance = np.array(points).T
    design = np.stack([signal, np.ones_like(signal)], 1)
    shot, read = np.linalg.lstsq(design, variance, rcond=None)[0]
    weights = 1 / np.maximum(design @ [max(shot, 1e-9), max(read, 1e-12)], 1e-12)  # relative errors count
    shot, read = np.linalg.lstsq(design * weights[:, None], variance * weights, rcond=None)[0]
    return max(float(shot), 1e-9), max(float(read), 1e-12)


def measure_file(path: Path) -> dict:
    """Colour matrix, white balance, levels and per-plane noise of one RAW file."""
    import rawpy

    image = read_raw(path)
    with rawpy.imread(os.fspath(path)) as raw:
        xyz_to_camera = np.array(raw.rgb_xyz_matrix[:3], np.float64)
        rgb_cam = np.array(raw.color_matrix[:, :3], np.float64)
        wb = list(raw.camera_whitebalance)
    if not xyz_to_camera.any():
        if not rgb_cam.any() or abs(np.linalg.det(rgb_cam)) < 1e-9:
            raise BadInputError(f"{path}: no colour matrix in the file")
        xyz_to_camera = np.linalg.inv(rgb_cam) @ np.linalg.inv(SRGB_TO_XYZ)
    xyz_to_camera /= np.abs(xyz_to_camera).max()
    if wb[1] <= 0:
        raise BadInputError(f"{path}: no as-shot white balance (camera_whitebalance {wb})")
    planes = pack(image.mosaic, image.cfa_pattern)  # R, G, B, G
    black = pack(image.black_block, image.cfa_pattern)[:, 0, 0].tolist()  # the same R, G, B, G order
    noise = [fit_noise(plane, b, image.white_level) for plane, b in zip(planes, black)]
    return {"file": path.name, "xyz_to_camera": xyz_to_camera.tolist(), "red_gain": wb[0] / wb[1],
            "blue_gain": wb[2] / wb[1], "black_level": int(round(float(np.mean(black)))),
            "white_level": image.white_level, "noise_rgbg": noise,
            "shot": float(np.mean([n[0] for n in noise])), "read": float(np.mean([n[1] for n in noise]))}


def _measure(path: Path) -> dict | str:
    try:
        return measure_file(path)
    except Exception as exc:  # reported by name; the other files still count
        return f"{path.name}: {type(exc).__name__}: {exc}"


def _span(values: list[float], widen: float, scale: str = "ratio") -> tuple[float, float]:
    low, high = min(values), max(values)
    if high - low > 1e-9:
        return low, high
    return (low / widen, high * widen) if scale == "ratio" else (low - widen, high + widen)


def combine(measurements: list[dict], name: str) -> Camera:
    """One camera from the measurements of several files (ranges across files, see the module doc)."""
    log_shot = [math.log(m["shot"]) for m in measurements]
    log_read = [math.log(m["read"]) for m in measurements]
    default = Camera()
    if max(log_shot) - min(log_shot) > 0.1 and len(measurements) >= 2:
        slope, intercept = np.polyfit(log_shot, log_read, 1)
        residual = np.asarray(log_read) - (slope * np.asarray(log_shot) + intercept)
        sigma = float(residual.std(ddof=1)) if len(measurements) > 2 else default.read_sigma
    else:
        slope = default.read_slope
        intercept = float(np.mean(log_read) - slope * np.mean(log_shot))
        sigma = default.read_sigma
    matrix = np.mean([m["xyz_to_camera"] for m in measurements], axis=0)
    return Camera(name=name, xyz_to_camera=tuple(tuple(float(v) for v in row) for row in matrix),
                  red_gain_range=_span([m["red_gain"] for m in measurements], 1.1),
                  blue_gain_range=_span([m["blue_gain"] for m in measurements], 1.1),
                  black_level=int(round(float(np.mean([m["black_level"] for m in measurements])))),
                  white_level=int(min(m["white_level"] for m in measurements)),
                  log_shot_range=_span(log_shot, math.log(2), "offset"),
                  read_slope=float(slope), read_intercept=float(intercept), read_sigma=float(sigma),
                  brightness_mean=default.brightness_mean, brightness_std=default.brightness_std)


def calibrate(raw_dir: str | os.PathLike, workers: int | None = None) -> tuple[Camera, list[dict], list[str]]:
    """(camera, per-file measurements, failures) of the RAW files in ``raw_dir``."""
    files = list_raw_files(raw_dir)
    workers = max(1, min(workers or os.cpu_count() or 1, len(files)))
    with tqdm(total=len(files), desc="calibrate", unit="file") as bar:
        if workers == 1:
            results = [_measure(f) for f in files if not bar.update()]
        else:
            with get_context("forkserver").Pool(workers) as pool:
                results = [r for r in pool.imap(_measure, files) if not bar.update()]
    measured = [r for r in results if isinstance(r, dict)]
    failed = [r for r in results if isinstance(r, str)]
    if not measured:
        raise BadInputError(f"--raw-dir: no file could be measured ({failed[0]})")
    return combine(measured, f"calibrated from {len(measured)} file(s) in {Path(raw_dir).name}"), measured, failed
