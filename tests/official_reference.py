"""A deliberately literal, slow restatement of the official AODRaw per-condition metric, used as
the test oracle.

It follows the upstream description in ../shared/specs/aodraw.md on the *image* axis, one stock
pycocotools evaluation per bucket (independent of the toolkit's virtual-category construction):
an image's boxes and detections are listed once per occurrence of the bucket among
["_".join(tags)] + tags + ["all"] (the same dict objects, ids kept, so pycocotools' id-0 behaviour
is genuine), and ignore-category boxes are appended as crowd boxes to every class of the image.
"""
from __future__ import annotations

import contextlib
import copy
import io
from collections import defaultdict

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def image_entries(image: dict, protocol: str = "official") -> list:
    tags = image.get("tag") or []
    entries = (["_".join(tags)] if tags else []) + list(tags) + ["all"]
    return list(dict.fromkeys(entries)) if protocol == "corrected" else entries


class _BucketEval(COCOeval):
    def __init__(self, gt, dt, bucket, ignore_id, protocol, area_ranges, max_dets):
        super().__init__(gt, dt, "bbox")
        self.bucket, self.ignore_id, self.protocol = bucket, ignore_id, protocol
        self.params.areaRng = [list(a) for a in area_ranges]
        self.params.maxDets = list(max_dets)
        self.params.catIds = sorted(c for c in gt.getCatIds() if c != ignore_id)

    def _prepare(self):
        p = self.params
        self._gts, self._dts = defaultdict(list), defaultdict(list)
        mult = {i: image_entries(self.cocoGt.imgs[i], self.protocol).count(self.bucket) for i in p.imgIds}
        ignore = defaultdict(list)
        for g in self.cocoGt.dataset["annotations"]:
            g["ignore"] = int(g.get("iscrowd", 0))
            for _ in range(mult.get(g["image_id"], 0)):
                if g["category_id"] == self.ignore_id:
                    ignore[g["image_id"]].append(g)
                else:
                    self._gts[g["image_id"], g["category_id"]].append(g)
        for d in self.cocoDt.dataset["annotations"]:
            if d["category_id"] != self.ignore_id:
                for _ in range(mult.get(d["image_id"], 0)):
                    self._dts[d["image_id"], d["category_id"]].append(d)
        for img, boxes in ignore.items():
            for c in p.catIds:
                self._gts[img, c] = self._gts[img, c] + boxes
        self.evalImgs = defaultdict(list)
        self.eval = {}


def official_precision(gt: dict, dt: list, bucket: str, *, protocol="official", ignore_name="ignore",
                       area_ranges=((0, 1e10), (0, 128 ** 2), (128 ** 2, 320 ** 2), (320 ** 2, 1e10)),
                       max_dets=(100, 300, 1000)):
    """precision [T, R, K, A, M] and recall [T, K, A, M] of one bucket, scored classes in id order."""
    gt = copy.deepcopy(gt)
    if protocol == "corrected":  # ids from 1: id 0 can match
        for n, a in enumerate(gt["annotations"]):
            a["id"] = n + 1
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(dt))
        ignore_id = next((c["id"] for c in gt["categories"] if c["name"] == ignore_name), None)
        ev = _BucketEval(coco_gt, coco_dt, bucket, ignore_id, protocol, area_ranges, max_dets)
        ev.params.imgIds = sorted(i for i in coco_gt.getImgIds()
                                  if bucket in image_entries(coco_gt.imgs[i], protocol))
        ev.evaluate()
        ev.accumulate()
    return np.asarray(ev.eval["precision"]), np.asarray(ev.eval["recall"])
