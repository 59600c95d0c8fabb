"""``AODRawDataset``: a COCO dataset whose classes come from the annotation file and whose ``ignore`` category
becomes ignore regions."""
from __future__ import annotations

import colorsys
import os.path as osp

from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS

IGNORE_NAME = "ignore"


def class_palette(n: int) -> list[tuple[int, int, int]]:
    """``n`` distinct colours (evenly spaced hues) for visualisation."""
    return [tuple(int(255 * c) for c in colorsys.hsv_to_rgb(i / max(n, 1), 0.75, 0.95)) for i in range(n)]


@DATASETS.register_module()
class AODRawDataset(CocoDataset):
    """AODRaw annotations (full, downsampled or sliced) for MMDetection.

    - Classes are the file's categories in id order, without ``ignore`` (unless ``metainfo`` names classes).
    - Boxes of the ``ignore`` category become ignore regions (``ignore_flag=1``, label -1); crowd boxes (the
      slices' partial boxes) and boxes marked ``ignore`` keep their class with ``ignore_flag=1``; boxes under 1 px
      wide or high, or outside the image, are dropped.
    - Each image's condition ``tag`` list is kept in its data info (add ``'tag'`` to ``PackDetInputs``'s
      ``meta_keys`` to carry it into the data samples).
    """

    METAINFO = {"classes": (), "palette": []}

    def load_data_list(self) -> list[dict]:
        """MMEngine ``BaseDataset.load_data_list`` of ``CocoDataset``, with the class list (and the ignore
        category's ids) read from the annotation file as it is loaded."""
        self.COCOAPI = self._coco_reading_classes
        return super().load_data_list()

    def _coco_reading_classes(self, path: str):
        """Load the annotation file and take the class list (and the ignore category) from it."""
        coco = CocoDataset.COCOAPI(path)
        categories = sorted(coco.dataset.get("categories", []), key=lambda c: c["id"])
        self.ignore_ids = {c["id"] for c in categories if c["name"] == IGNORE_NAME}
        if not self._metainfo.get("classes"):
            self._metainfo["classes"] = tuple(c["name"] for c in categories if c["name"] != IGNORE_NAME)
        if len(self._metainfo.get("palette") or ()) < len(self._metainfo["classes"]):
            self._metainfo["palette"] = class_palette(len(self._metainfo["classes"]))
        return coco

    def parse_data_info(self, raw_data_info: dict) -> dict:
        """One image's data info (MMEngine ``BaseDataset`` interface): path, id, size, its ``tag`` list and
        ``instances`` with x1 y1 x2 y2 pixel boxes. Boxes under 1 px wide or high, or entirely outside the image, are
        dropped; ``ignore`` boxes get label -1 and ``ignore_flag=1``; crowd and ``ignore``-marked boxes keep their label
        with ``ignore_flag=1``."""
        img = raw_data_info["raw_img_info"]
        info = {"img_path": osp.join(self.data_prefix.get("img", ""), img["file_name"]), "img_id": img["img_id"],
                "seg_map_path": None, "height": img["height"], "width": img["width"],
                "tag": list(img.get("tag") or [])}
        instances = []
        for ann in raw_data_info["raw_ann_info"]:
            x, y, w, h = ann["bbox"]
            inside_w = min(x + w, img["width"]) - max(x, 0)
            inside_h = min(y + h, img["height"]) - max(y, 0)
            if w < 1 or h < 1 or inside_w <= 0 or inside_h <= 0:
                continue
            box = [x, y, x + w, y + h]
            if ann["category_id"] in self.ignore_ids:
                instances.append({"bbox": box, "bbox_label": -1, "ignore_flag": 1})
            elif ann["category_id"] in self.cat2label:
                ignored = bool(ann.get("iscrowd") or ann.get("ignore"))
                instances.append({"bbox": box, "bbox_label": self.cat2label[ann["category_id"]],
                                  "ignore_flag": int(ignored)})
        info["instances"] = instances
        return info
