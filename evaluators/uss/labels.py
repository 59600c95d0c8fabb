"""The label tables of the USS benchmarks (STEGO / PiCIE protocols), one table per dataset, lookups derived.

Facts (``../shared/reference/uss/FACTS.md``): COCO-Stuff-164k label PNGs store the COCO-Stuff label id minus 1
(0..181, 255 unlabeled; 11 thing values are never used); STEGO's ``cocostuff27`` maps each value to its COCO
supercategory, things first (coarse 0..11) then stuff (12..26); the 171-class ("fine") numbering drops the 11
unused values and renumbers the rest in ascending order (as MMSegmentation's converter); Cityscapes class =
labelId - 7, labelIds below 7 void (27 classes, not the 19 trainIds); Potsdam fine 0..5 -> 3 coarse classes.

Every table is a 256-entry ``uint8`` lookup from the raw ground-truth value to the class id, with ``VOID`` (255)
for pixels the protocol ignores and ``INVALID`` (254) for values that do not occur in the dataset (the readers
refuse them; STEGO would silently turn them into class 0).
"""
from __future__ import annotations

import numpy as np

VOID = 255
INVALID = 254

# COCO-Stuff fine names, PNG value 0..181 (COCO-Stuff labels.txt, id - 1); "" marks the 11 unused thing values
COCO_FINE_NAMES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "", "backpack", "umbrella", "", "", "handbag", "tie", "suitcase",
    "frisbee", "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard",
    "surfboard", "tennis racket", "bottle", "", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana",
    "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "", "dining table", "", "", "toilet", "", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush", "",
    "banner", "blanket", "branch", "bridge", "building-other", "bush", "cabinet", "cage", "cardboard", "carpet",
    "ceiling-other", "ceiling-tile", "cloth", "clothes", "clouds", "counter", "cupboard", "curtain", "desk-stuff",
    "dirt", "door-stuff", "fence", "floor-marble", "floor-other", "floor-stone", "floor-tile", "floor-wood",
    "flower", "fog", "food-other", "fruit", "furniture-other", "grass", "gravel", "ground-other", "hill", "house",
    "leaves", "light", "mat", "metal", "mirror-stuff", "moss", "mountain", "mud", "napkin", "net", "paper",
    "pavement", "pillow", "plant-other", "plastic", "platform", "playingfield", "railing", "railroad", "river",
    "road", "rock", "roof", "rug", "salad", "sand", "sea", "shelf", "sky-other", "skyscraper", "snow",
    "solid-other", "stairs", "stone", "straw", "structural-other", "table", "tent", "textile-other", "towel",
    "tree", "vegetable", "wall-brick", "wall-concrete", "wall-other", "wall-panel", "wall-stone", "wall-tile",
    "wall-wood", "water-other", "waterdrops", "window-blind", "window-other", "wood")
COCO_UNUSED = (11, 25, 28, 29, 44, 65, 67, 68, 70, 82, 90)
COCO_THINGS_FINE = 91  # PNG values 0..90 are things, 91..181 stuff


def _spans(*spans) -> list[int]:
    out = []
    for span in spans:
        out += list(range(span[0], span[1] + 1)) if isinstance(span, tuple) else [span]
    return out


# STEGO cocostuff27: coarse id -> (name, fine PNG values); things 0..11, stuff 12..26
COCO27 = (
    ("electronic", _spans((71, 76))), ("appliance", _spans((77, 82))), ("food", _spans((51, 60))),
    ("furniture", _spans((61, 70))), ("indoor", _spans((83, 90))), ("kitchen", _spans((43, 50))),
    ("accessory", _spans((25, 32))), ("animal", _spans((15, 24))), ("outdoor", _spans((9, 14))),
    ("person", [0]), ("sports", _spans((33, 42))), ("vehicle", _spans((1, 8))),
    ("ceiling", _spans((101, 102))), ("floor", _spans(100, (113, 117))), ("food", _spans((120, 121), 152, 169)),
    ("furniture", _spans(97, (106, 107), 109, 111, 122, 129, 132, 155, 160, 164)),
    ("rawmaterial", _spans(99, 131, 138, 142)),
    ("textile", _spans((91, 92), (103, 104), 108, 130, 136, 140, 151, (166, 167))),
    ("wall", _spans((170, 176))), ("window", _spans((179, 180))),
    ("building", _spans((94, 95), 127, 150, 157, 165)),
    ("ground", _spans(110, (124, 125), 135, 139, (143, 144), 146, 148, 153, 158)),
    ("plant", _spans(93, 96, 118, 123, 128, 133, 141, 162, 168)), ("sky", _spans(105, 156)),
    ("solid", _spans(126, 134, 149, 159, 161, 181)), ("structural", _spans(98, 112, 137, 145, 163)),
    ("water", _spans(119, 147, 154, (177, 178))))
COCO27_THINGS = 12  # STEGO's first stuff index: classes 0..11 are things, 12..26 stuff

CITYSCAPES27 = (
    "road", "sidewalk", "parking", "rail track", "building", "wall", "fence", "guard rail", "bridge", "tunnel",
    "pole", "polegroup", "traffic light", "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car",
    "truck", "bus", "caravan", "trailer", "train", "motorcycle", "bicycle")
CITYSCAPES_FIRST_ID = 7  # STEGO: class = labelId - 7, below 0 void
CITYSCAPES_LAST_ID = 33

# Potsdam: coarse class -> (name, fine values), by STEGO's comments
POTSDAM3 = (("roads and cars", (0, 4)), ("buildings and clutter", (1, 5)), ("trees and vegetation", (2, 3)))


def _empty() -> np.ndarray:
    table = np.full(256, INVALID, np.uint8)
    table[255] = VOID
    return table


def coco27_table() -> np.ndarray:
    """PNG value (0..255) -> cocostuff27 class (0..26), VOID for 255, INVALID for 182..254. The unused fine
    values map to their supercategory as in STEGO."""
    table = _empty()
    for coarse, (_name, fine) in enumerate(COCO27):
        table[fine] = coarse
    return table


def coco171_table() -> np.ndarray:
    """PNG value -> compact fine id (0..170, the used values renumbered in ascending order), VOID for 255,
    INVALID for the 11 unused values and 182..254."""
    table = _empty()
    used = [v for v in range(len(COCO_FINE_NAMES)) if v not in COCO_UNUSED]
    table[used] = np.arange(len(used))
    return table


def coco171_names() -> tuple[str, ...]:
    """The 171 used fine names in compact-id order."""
    return tuple(name for value, name in enumerate(COCO_FINE_NAMES) if value not in COCO_UNUSED)


def cityscapes27_table() -> np.ndarray:
    """Cityscapes labelId -> STEGO class (labelId - 7); labelIds 0..6 and above 33 are void (STEGO's metric drops
    targets outside 0..26)."""
    table = np.full(256, VOID, np.uint8)
    table[CITYSCAPES_FIRST_ID:CITYSCAPES_LAST_ID + 1] = np.arange(len(CITYSCAPES27))
    return table


def potsdam3_table() -> np.ndarray:
    """Potsdam fine value (0..5) -> coarse class (0..2), VOID for 255, INVALID otherwise."""
    table = _empty()
    for coarse, (_name, fine) in enumerate(POTSDAM3):
        table[list(fine)] = coarse
    return table
