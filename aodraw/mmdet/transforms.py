"""Loading stored AODRaw RAW arrays into an MMDetection pipeline (sRGB JPGs use the stock ``LoadImageFromFile``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS

from aodraw.detector_input import DEFAULT_GAMMA, render_bayer, render_raw
from plumbing.errors import BadInputError


@TRANSFORMS.register_module()
class LoadAODRawImageFromFile(BaseTransform):
    """Load ``img_path`` as the detector's float32 H x W x 3 image.

    Reads a downsampled RAW ``.npy`` (3 x H x W, [0, 255]) or a packed Bayer slice (4 x h x w, raw values,
    demosaiced back to 2h x 2w); the annotation's file name may keep its ``.JPG`` suffix (``suffix`` replaces it).

    Args:
        gamma: the loader's gamma on the [0, 255] scale (upstream 1/2.2); ``None`` for linear input.
        normalise_slices: rescale slices to [0, 255] before the gamma. Upstream does not (a quirk: slice
            inputs reach values far above 255); the default reproduces it.
        to_bgr: channel order BGR as upstream (the data preprocessor turns it into RGB).
        suffix: file suffix of the stored arrays.
    """

    def __init__(self, gamma: float | None = DEFAULT_GAMMA, normalise_slices: bool = False, to_bgr: bool = True,
                 suffix: str = ".npy"):
        self.gamma = gamma
        self.normalise_slices = normalise_slices
        self.to_bgr = to_bgr
        self.suffix = suffix

    def stored_path(self, img_path: str | Path) -> Path:
        """The file holding the array of ``img_path`` (an annotation's ``.JPG`` name gets ``suffix``)."""
        path = Path(img_path)
        return path if path.suffix == self.suffix else path.with_suffix(self.suffix)

    def read(self, img_path: str) -> tuple[Path, np.ndarray]:
        """The stored array of ``img_path`` and where it was read."""
        path = self.stored_path(img_path)
        try:
            return path, np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise BadInputError(f"{path}: cannot read the RAW array ({exc})") from None

    def render(self, array: np.ndarray) -> np.ndarray:
        """A stored array (3 x H x W or a 4 x h x w Bayer pack) as the detector's float32 H x W x 3 image."""
        return render_raw(array, self.gamma, self.normalise_slices, self.to_bgr)

    def transform(self, results: dict) -> dict:
        """Load ``results['img_path']``'s stored array as ``img`` (float32 H x W x 3) and set ``img_path``,
        ``img_shape`` and ``ori_shape`` (MMCV ``BaseTransform`` interface).

        Raises:
            BadInputError: the array cannot be read or has an unexpected shape (the message names the file)."""
        path, array = self.read(results["img_path"])
        try:
            img = self.render(array)
        except BadInputError as exc:
            raise BadInputError(f"{path}: {exc}") from None
        results["img_path"] = str(path)
        results["img"] = img
        results["img_shape"] = img.shape[:2]
        results["ori_shape"] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(gamma={self.gamma}, normalise_slices={self.normalise_slices}, "
                f"to_bgr={self.to_bgr}, suffix={self.suffix!r})")


@TRANSFORMS.register_module()
class LoadBayerPackFromFile(LoadAODRawImageFromFile):
    """Load a packed Bayer ``.npy`` (4 x h x w raw values, ``aodraw convert bayer``) as the float32 H x W x 4 input of
    the packed-Bayer stem (``aodraw.detector_input.render_bayer``): black levels and white level from the pack's
    sidecar ``NAME.json`` when there is one (else ``black``/``white``), gamma, resized by ``upsample`` (2: a
    ``--downsample 3`` pack to the frame of the 1/3 downsampled images and their annotation files)."""

    def __init__(self, gamma: float | None = DEFAULT_GAMMA, upsample: int = 2, black: float = 0.0,
                 white: float = 16383.0, suffix: str = ".npy"):
        super().__init__(gamma=gamma, suffix=suffix)
        self.upsample, self.black, self.white = upsample, black, white

    def levels(self, path: Path) -> tuple[list | float, float]:
        """(black level per plane, white level) from the sidecar beside ``path``, else the defaults."""
        sidecar = path.with_suffix(".json")
        if not sidecar.is_file():
            return self.black, self.white
        try:
            meta = orjson.loads(sidecar.read_bytes())
            return meta["black_level"], float(meta["white_level"])
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise BadInputError(f"{sidecar}: not a Bayer pack sidecar ({exc})") from None

    def render(self, array: np.ndarray) -> np.ndarray:
        """A 4 x h x w pack (or a window of one) as float32 H x W x 4 with the default levels."""
        return render_bayer(array, self.black, self.white, self.gamma, self.upsample)

    def transform(self, results: dict) -> dict:
        """Load ``results['img_path']``'s pack as ``img`` (float32 H x W x 4); sets ``img_shape``/``ori_shape``.

        Raises:
            BadInputError: unreadable pack or sidecar, or not 4 x h x w (the message names the file)."""
        path, planes = self.read(results["img_path"])
        black, white = self.levels(path)
        try:
            img = render_bayer(planes, black, white, self.gamma, self.upsample)
        except BadInputError as exc:
            raise BadInputError(f"{path}: {exc}") from None
        results.update(img_path=str(path), img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])
        return results

    def __repr__(self) -> str:
        return f"{type(self).__name__}(gamma={self.gamma}, upsample={self.upsample}, suffix={self.suffix!r})"
