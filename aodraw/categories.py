"""The AODRaw label table: object classes in id order and the condition tags.

Evaluation never relies on this table (it reads categories and tags from the annotation file);
the dataset class, recipes and synthetic data use it.
"""
from __future__ import annotations

# Upstream spelling kept (`bicyle`): names are matched by string.
CLASSES = (
    "person", "traffic_sign", "surveillance_camera", "bicyle", "car", "tricycle", "truck", "traffic_light",
    "motorcycle", "handbag/satchel", "bottle/cup", "backpack", "bus_stop_sign", "helmet", "garbage_can", "bus",
    "dog", "hat", "chair", "table", "phone", "refrigerator", "traffic_cone", "fire_hydrant", "crane", "tent",
    "fire_extinguisher", "bowl", "cat", "sink", "lamp", "monitor", "bench", "spoon", "earphone", "potted_plant",
    "vase", "suitcase", "vending_machine", "watch", "train", "boat", "umbrella", "sofa", "plate", "pot", "pillow",
    "scissors", "mouse", "desk_lamp", "keyboard", "toilet_paper", "pen", "computer_box", "laptop", "mirror", "bed",
    "toilet", "wine_glass", "clock", "airplane",
)
IGNORE_NAME = "ignore"
# Upstream's metric expects the ignore-region category at id 62.
IGNORE_ID = 62

LIGHT_TAGS = ("normal_light", "low_light", "indoor")
WEATHER_TAGS = ("rain", "fog")
# The tag lists seen upstream: single conditions and three two-tag combinations.
CONDITIONS = (("normal_light",), ("low_light",), ("indoor",), ("rain",), ("fog",),
              ("low_light", "rain"), ("low_light", "fog"), ("rain", "fog"))


def categories() -> list:
    """COCO ``categories`` of AODRaw: the classes with ids 0..60 and ``ignore`` with id 62."""
    return [{"id": i, "name": n} for i, n in enumerate(CLASSES)] + [{"id": IGNORE_ID, "name": IGNORE_NAME}]
