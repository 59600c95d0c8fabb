"""Where the other-RAW-datasets tests find their real files: the annotation files of
``../shared/reference/raw_detection`` (never copied into the repository) and the camera files of
``../shared/reference/raw_samples``."""
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
RAW_DETECTION = SHARED / "raw_detection"
RAW_SAMPLES = SHARED / "raw_samples"
# key -> file of every real annotation file; the key is its dataset unless DATASET_OF says otherwise
FILES = {
    "pascalraw": "PASCALRAW/dng_instances_test.json",
    "nod": "NOD/raw_new_Sony_RX100m7_test.json",
    "lod": "LOD/all_dark-val.json",
    "rod": "ROD/val-anno.json",
    "raw-nod": "RAW-NOD/raw_str_labeled_new_Sony_RX100m7_test.json",
}
DATASET_OF = {"raw-nod": "nod"}
