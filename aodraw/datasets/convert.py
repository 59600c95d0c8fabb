"""``aodraw datasets convert-raw``: a dataset's RAW files into AODRaw's representations, resumable and shardable
(the converters' job loop, ``plumbing.jobs.run_jobs``).

* ``downsample``: ``NAME.npy``, float32 3 x h x w in [0, 255] like ``images_downsampled_raw``, in the frame of the
  dataset's published annotation files (``DatasetSpec.frame``, or ``frame``): black level subtracted per CFA site
  (clipped at 0), bilinear 3x3 demosaic with the file's CFA (``aodraw.raw``), the official bilinear resize to the
  frame, scaled by 255 / (white - black). The per-dataset levels make the [0, 255] scale mean the same thing on
  every sensor (AODRaw's own folder divides raw values by (2^14 - 1) / 255 without subtracting black).
* ``bayer``: ``NAME.npy`` + ``NAME.json``, the packed planes of ``aodraw.convert.bayer`` (4 x H/2 x W/2, raw values,
  uint16, or uint32 for ROD's 24 bits) in the sensor frame, with the sidecar's levels and CFA; the sidecar adds
  ``dataset`` and ``frame`` (the annotation frame, to scale boxes).
The sensor frame is never turned (these datasets' annotations are in the unrotated RAW frame). LOD folders also
get ``pairs.json``, the dark/normal exposure pairing.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aodraw.convert.bayer import write_bayer_pack
from aodraw.datasets import dataset_spec, lod
from aodraw.datasets.spec import DatasetSpec
from aodraw.raw import RAW_MAX, RawImage, demosaic_x4, demosaic_x4_wide, resize_bilinear
from plumbing.errors import BadInputError
from plumbing.files import needs_writing, save_npy, write_json
from plumbing.jobs import Summary, run_jobs

KINDS = ("downsample", "bayer")


def list_files(root: str | os.PathLike, spec: DatasetSpec) -> dict[str, Path]:
    """{stem: path} of the RAW files of ``root`` with one of ``spec.raw_exts`` (upper or lower case; hidden
    files skipped). Raises BadInputError when ``root`` is not a folder or a stem has two RAW files."""
    root = Path(root)
    if not root.is_dir():
        raise BadInputError(f"--root: {root} is not a folder")
    found: dict[str, Path] = {}
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in spec.raw_exts or not path.is_file():
            continue
        if path.stem in found:
            raise BadInputError(f"--root: {found[path.stem].name} and {path.name} share the name {path.stem}")
        found[path.stem] = path
    return found


def subtract_black(raw: RawImage) -> np.ndarray:
    """The mosaic minus the black level of each CFA site, clipped at 0 (int32, or uint16 when the result fits
    14 bits, so the fast demosaic path takes it)."""
    h, w = raw.mosaic.shape
    black = np.tile(np.asarray(raw.black_block, np.int64), (h // 2, w // 2))
    out = np.maximum(raw.mosaic.astype(np.int64) - black, 0)
    return out.astype(np.uint16 if raw.white_level - min(raw.black_level) <= RAW_MAX else np.int32)


def downsample_sensor(raw: RawImage, frame: tuple[int, int]) -> np.ndarray:
    """float32 3 x height x width (``frame`` = (width, height)) in [0, 255] of ``raw`` (see the module rule)."""
    mosaic = subtract_black(raw)
    rgb = demosaic_x4(mosaic, raw.cfa_pattern) if mosaic.dtype == np.uint16 else \
        demosaic_x4_wide(mosaic, raw.cfa_pattern)
    small = resize_bilinear(rgb, (frame[1], frame[0]))
    scale = np.float32(255.0 / (4.0 * max(1, raw.white_level - max(raw.black_level))))
    out = np.multiply(small.transpose(2, 0, 1), scale, order="C")
    return np.clip(out, 0, 255, out=out)


@dataclass(frozen=True)
class DatasetRawJob:
    """One RAW file's conversion, picklable for worker processes: ``job(stem)`` writes ``target/STEM.npy`` (and
    for ``bayer`` its sidecar) from ``files[stem]`` and returns False when they are complete already."""
    dataset: str
    files: dict[str, Path]
    target: Path
    kind: str
    frame: tuple[int, int]
    overrides: dict = field(default_factory=dict)

    def __call__(self, stem: str) -> bool:
        spec = dataset_spec(self.dataset)
        array = self.target / f"{stem}.npy"
        outputs = (array, array.with_suffix(".json")) if self.kind == "bayer" else (array,)
        if not needs_writing(*outputs):
            return False
        raw = spec.read(self.files[stem], **self.overrides)
        if self.kind == "downsample":
            save_npy(array, downsample_sensor(raw, self.frame))
        else:
            extra = {"dataset": spec.name, "frame": list(self.frame),
                     **(lod.exposure_fields(stem) if spec.name == "lod" else {})}
            write_bayer_pack(array, raw, raw.mosaic.shape, 1, extra=extra)
        return True


def convert_dataset_raws(dataset: str, root: str | os.PathLike, target: str | os.PathLike, kind: str,
                         workers: int | None = None, shard: tuple[int, int] | None = None,
                         frame: tuple[int, int] | None = None, **overrides) -> Summary:
    """Convert every RAW file of ``dataset`` in ``root`` into ``target`` (``kind``: downsample | bayer; see the
    module rules). ``frame``: (width, height) of the downsampled arrays (default: the annotation frame);
    ``overrides``: ``width``/``height``/``cfa`` of headerless files (ROD). LOD also writes ``pairs.json``."""
    spec = dataset_spec(dataset)
    if kind not in KINDS:
        raise BadInputError(f"--kind: {kind!r} is not one of {', '.join(KINDS)}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if overrides and spec.name != "rod":
        raise BadInputError(f"{', '.join(f'--{k}' for k in overrides)}: only for ROD's headerless .raw files "
                            f"({spec.title} files carry their own size and CFA)")
    files = list_files(root, spec)
    if not files:
        raise BadInputError(f"--root: no {spec.title} RAW files ({', '.join(spec.raw_exts)}) in {root}")
    if spec.name == "lod":
        write_json(Path(target) / "pairs.json", lod.pairs(list(files)))
    job = DatasetRawJob(spec.name, files, Path(target), kind, tuple(frame or spec.frame), overrides)
    return run_jobs(list(files), job, workers, shard, desc=f"{spec.name} {kind}")
