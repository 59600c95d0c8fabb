"""Condition buckets from each image's ``tag`` list (AODRaw: light and weather conditions).

An image belongs to ``all``, to a bucket per tag it carries, and, when it carries two or more tags,
to the exact combination named by joining its tags with ``_`` in file order (``low_light_rain``).

Upstream's AODRawMetric files an image under ``"_".join(tags)``, then under each tag, then ``all``.
For a single-tag image the joined name *is* its tag, so it is filed twice there: its boxes and
detections count double in its tag's bucket, and the detection limit counts the copies. The
``official`` protocol reproduces that multiplicity; ``corrected`` counts every image once.
"""
from __future__ import annotations

from collections import Counter

ALL = "all"


def combination_name(tags: list) -> str:
    """The bucket name of an image's tags together, as upstream names it: joined with ``_`` in file order
    (``["low_light", "rain"]`` -> ``low_light_rain``)."""
    return "_".join(tags)


def image_buckets(tags: list | None, protocol: str) -> dict:
    """Bucket name -> multiplicity for one image (insertion order: joined name, tags, ``all``)."""
    entries = ([combination_name(tags)] if tags else []) + list(tags or []) + [ALL]
    counts = Counter(entries)
    if protocol == "corrected":
        return dict.fromkeys(counts, 1)
    return dict(counts)


def bucket_names(per_image: list) -> list:
    """All bucket names: ``all``, single tags, then combinations, each in order of first appearance."""
    singles, combos = {}, {}
    for tags, buckets in per_image:
        for tag in tags or []:
            singles.setdefault(tag, None)
        for name in buckets:
            if name != ALL and name not in singles:
                combos.setdefault(name, None)
    return [ALL, *singles, *(c for c in combos if c not in singles)]
