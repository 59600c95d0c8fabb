"""The other public RAW detection datasets (PASCALRAW, NOD, LOD, ROD) read into AODRaw's representations: one
module per dataset (facts, RAW reader, per-image annotation fields), the annotation converter (``coco``) and the
RAW converter (``convert``). ``DATASETS`` maps the command-line name to its ``DatasetSpec``."""
from __future__ import annotations

from aodraw.datasets import lod, nod, pascalraw, rod
from aodraw.datasets.spec import DatasetSpec
from plumbing.errors import UnknownNameError

DATASETS: dict[str, DatasetSpec] = {m.SPEC.name: m.SPEC for m in (pascalraw, nod, lod, rod)}


def dataset_spec(name: str) -> DatasetSpec:
    """The ``DatasetSpec`` called ``name``. Raises UnknownNameError listing the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownNameError(f"--dataset: unknown dataset {name!r} (known: {', '.join(DATASETS)})") from None
