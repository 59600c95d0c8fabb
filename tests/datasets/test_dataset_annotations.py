"""datasets convert-annotations on the real PASCALRAW, NOD, LOD, ROD (and RAW-NOD) files: every normalisation,
wrong-dataset refusal, and `aodraw evaluate --preset coco` scoring the converted files unchanged."""
import orjson
import pytest
from click.testing import CliRunner
from raw_detection_files import DATASET_OF, FILES

from aodraw.cli import main
from aodraw.datasets.coco import convert_annotations, guess_dataset
from evaluators.detection import evaluate_detections
from plumbing.errors import BadInputError


def _convert(reference, key):
    return convert_annotations(reference / FILES[key], DATASET_OF.get(key, key))


def _perfect(gt, drop=lambda ann: False):
    return [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
            for a in gt["annotations"] if not drop(a)]


@pytest.mark.parametrize("key", list(FILES))
def test_converted_ids_are_clean_and_keep_their_sources(reference, key):
    source = orjson.loads((reference / FILES[key]).read_bytes())
    gt = _convert(reference, key)
    with pytest.raises(BadInputError, match="already converted"):  # not mistaken for another dataset (ids from 1)
        convert_annotations(gt, DATASET_OF.get(key, key))
    assert len(gt["images"]) == len(source["images"]) and len(gt["annotations"]) == len(source["annotations"])
    assert all(isinstance(im["id"], int) for im in gt["images"])
    assert [im["source_id"] for im in gt["images"]] == [im["id"] for im in source["images"]]
    # categories 1..K, names kept in id order
    assert [c["id"] for c in gt["categories"]] == list(range(1, len(source["categories"]) + 1))
    assert [c["name"] for c in gt["categories"]] == [c["name"] for c in sorted(source["categories"],
                                                                                key=lambda c: c["id"])]
    ids = [a["id"] for a in gt["annotations"]]
    assert 0 not in ids and len(set(ids)) == len(ids)
    for ann in gt["annotations"]:
        assert ann["area"] == ann["bbox"][2] * ann["bbox"][3] and ann["iscrowd"] == 0
    assert all(not im["file_name"].startswith("/") for im in gt["images"])
    # each box keeps its image and class through the mappings
    image_of = {im["id"]: im["source_id"] for im in gt["images"]}
    cat_of = {c["id"]: c["source_id"] for c in gt["categories"]}
    for old, new in zip(source["annotations"], gt["annotations"]):
        assert (image_of[new["image_id"]], cat_of[new["category_id"]]) == (old["image_id"], old["category_id"])


def test_dataset_specific_fields_and_notes(reference):
    pascal = _convert(reference, "pascalraw")
    assert pascal["images"][0]["id"] == 0 and pascal["images"][0]["source_id"] == "2014_003084"
    assert pascal["categories"][0] == {"supercategory": "none", "id": 1, "name": "person", "source_id": 0}
    assert pascal["annotations"][0]["id"] == 1  # ids 1..1327 already: kept
    nod = _convert(reference, "nod")
    assert nod["images"][0]["id"] == 125 and "annotation ids: every id + 1" in " ".join(nod["conversion"]["notes"])
    raw_nod = _convert(reference, "raw-nod")
    assert raw_nod["images"][0]["camera"] == "Sony RX100 VII"
    # NOD's two Sony files share annotation ids: shifted (not renumbered in file order), they still do
    by_id = {a["id"]: a for a in nod["annotations"]}
    shared = [a for a in raw_nod["annotations"] if a["id"] in by_id]
    assert len(shared) == len(raw_nod["annotations"]) == len(nod["annotations"])
    image_of = {name: {im["id"]: im.get("source_id", im["id"]) for im in data["images"]}
                for name, data in (("nod", nod), ("raw", raw_nod))}
    assert all(a["source_id"] + 1 == a["id"] and image_of["raw"][a["image_id"]] == image_of["nod"][
        by_id[a["id"]]["image_id"]] and by_id[a["id"]]["category_id"] == a["category_id"] for a in shared)
    lod = _convert(reference, "lod")
    first = lod["images"][0]
    assert (first["id"], first["source_id"], first["exposure"], first["pair"]) == (1516, "1516", "dark", "1515")
    assert lod["annotations"][0]["area"] == 506 * 590  # the file says 587686.25 (1.97 x w*h)
    assert "area: 2047 of 2047 recomputed as w*h; the file's area was 1.11..1.98 x w*h" in lod["conversion"]["notes"]
    assert "iscrowd" in lod["annotations"][0] and "segmentation" not in lod["annotations"][0]
    rod = _convert(reference, "rod")
    assert [(im["file_name"], im["tag"]) for im in rod["images"]] == [("day-04675.npy", ["day"]),
                                                                     ("night-04674.npy", ["night"])]
    assert rod["images"][0]["source_file_name"].endswith("ROD_sample/images/day-04675.npy")
    assert [a["id"] for a in rod["annotations"]] == list(range(8, 19))  # no id 0: kept


@pytest.mark.parametrize("key, dataset, looks", [
    ("rod", "pascalraw", "ROD (--dataset rod)"), ("pascalraw", "nod", "PASCALRAW (--dataset pascalraw)"),
    ("nod", "pascalraw", "NOD (--dataset nod)"), ("lod", "rod", "LOD (--dataset lod)"),
    ("pascalraw", "lod", "PASCALRAW"), ("raw-nod", "rod", "NOD"),
])
def test_a_file_of_another_dataset_is_refused_in_one_line(reference, tmp_path, key, dataset, looks):
    out = tmp_path / "out.json"
    result = CliRunner().invoke(main, ["datasets", "convert-annotations", "--dataset", dataset,
                                       str(reference / FILES[key]), "--out", str(out)])
    assert result.exit_code == 2 and not out.exists()
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and f"it looks like {looks}" in lines[0]


def test_files_that_are_no_dataset_are_refused(tmp_path):
    aodraw_like = {"images": [], "annotations": [], "categories": [{"id": 0, "name": "person"},
                                                                   {"id": 1, "name": "traffic_sign"}]}
    assert guess_dataset(aodraw_like["categories"]) is None
    with pytest.raises(BadInputError, match="its classes match none of PASCALRAW, NOD, LOD, ROD"):
        convert_annotations(aodraw_like, "nod")
    with pytest.raises(BadInputError, match="not a COCO detection file"):
        convert_annotations([1, 2], "rod")
    with pytest.raises(BadInputError, match="every category needs an integer 'id'"):
        convert_annotations({**aodraw_like, "categories": [{"id": "0", "name": "Tram"}]}, "rod")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = CliRunner().invoke(main, ["datasets", "convert-annotations", "--dataset", "lod", str(bad),
                                       "--out", str(tmp_path / "o.json")])
    assert result.exit_code == 2 and "invalid JSON" in result.output


@pytest.mark.parametrize("key", list(FILES))
def test_converted_ground_truth_scores_itself_1(reference, key):
    gt = _convert(reference, key)
    # COCO keeps 100 detections per image; one LOD image has 102 boxes, so LOD needs a higher limit for 1.0
    limits = {"max_dets": [1, 10, 1000]} if key == "lod" else {}
    result = evaluate_detections(gt, _perfect(gt), preset="coco", **limits)
    ap = result.stats[1:3] if key == "lod" else result.stats[:3]  # AP at 1000 detections is not in stats[0]
    assert ap == pytest.approx([1.0] * len(ap))


def test_lod_at_coco_limits_loses_the_two_boxes_past_100(reference):
    # image 1018 has 102 boxes; with equal scores the first 100 in file order are kept and the last two are
    # bottles: bottle recall 283/285 = 0.993 reaches the recall points 0..0.99 only (100 of 101), the other 7
    # classes 1: AP (7 + 100/101) / 8
    lod = _convert(reference, "lod")
    crowded = [a for a in lod["annotations"] if a["image_id"] == 1018]
    bottle = next(c["id"] for c in lod["categories"] if c["name"] == "bottle")
    assert len(crowded) == 102 and [a["category_id"] for a in crowded[100:]] == [bottle, bottle]
    result = evaluate_detections(lod, _perfect(lod), preset="coco")
    assert result.stats[0] == pytest.approx((7 + 100 / 101) / 8, abs=1e-12)


def test_unconverted_nod_cannot_score_itself_1(reference):
    # why annotation id 0 is renumbered: the official protocol (pycocotools) never matches a box of id 0
    source = orjson.loads((reference / FILES["nod"]).read_bytes())
    assert evaluate_detections(source, _perfect(source), preset="coco").stats[0] < 1.0


def test_perturbed_copies_score_the_hand_checked_values(reference, tmp_path):
    # ROD: 11 boxes, Tram 4 / Truck 4 / Cyclist 3 (Car, Pedestrian none: no AP). One Tram detection dropped, every
    # score 1: Tram precision is 1 up to recall 3/4, so 76 of the 101 recall points count: AP 76/101; overall
    # (76/101 + 1 + 1) / 3 = 0.917491749...
    rod = _convert(reference, "rod")
    first_tram = next(a["id"] for a in rod["annotations"] if a["category_id"] == 1)
    gt_path, dt_path, out = tmp_path / "gt.json", tmp_path / "dt.json", tmp_path / "res.json"
    gt_path.write_bytes(orjson.dumps(rod))
    dt_path.write_bytes(orjson.dumps(_perfect(rod, lambda a: a["id"] == first_tram)))
    result = CliRunner().invoke(main, ["evaluate", "--gt", str(gt_path), "--dt", str(dt_path), "--preset", "coco",
                                       "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = orjson.loads(out.read_bytes())
    assert report["stats"][0] == pytest.approx((76 / 101 + 2) / 3, abs=1e-12)
    assert report["categories"]["Tram"]["AP"] == pytest.approx(76 / 101, abs=1e-12)
    assert set(report["conditions"]) >= {"day", "night"}
    # the reference backend agrees
    assert evaluate_detections(rod, orjson.loads(dt_path.read_bytes()), preset="coco",
                               backend="pycocotools").stats[0] == pytest.approx((76 / 101 + 2) / 3, abs=1e-12)
    # one whole class missed: PASCALRAW without bicycle detections 2/3; LOD without bus detections 6/8 plus the
    # bottle's 100/101 (see test_lod_at_coco_limits_loses_the_two_boxes_past_100)
    pascal, lod = _convert(reference, "pascalraw"), _convert(reference, "lod")
    assert evaluate_detections(pascal, _perfect(pascal, lambda a: a["category_id"] == 2),
                               preset="coco").stats[0] == pytest.approx(2 / 3)
    bus = next(c["id"] for c in lod["categories"] if c["name"] == "bus")
    assert evaluate_detections(lod, _perfect(lod, lambda a: a["category_id"] == bus),
                               preset="coco").stats[0] == pytest.approx((6 + 100 / 101) / 8, abs=1e-12)


def test_cli_writes_the_converted_file_with_notes(reference, tmp_path):
    out = tmp_path / "lod.json"
    result = CliRunner().invoke(main, ["datasets", "convert-annotations", "--dataset", "lod",
                                       str(reference / FILES["lod"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "note: area: 2047 of 2047 recomputed" in result.output
    assert "wrote" in result.output and "446 images, 2047 boxes, 8 categories" in result.output
    written = orjson.loads(out.read_bytes())
    assert written["conversion"]["dataset"] == "lod" and written["conversion"]["source"] == "all_dark-val.json"
