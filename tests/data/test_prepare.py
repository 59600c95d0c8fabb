"""``imagenet-s prepare`` / ``verify`` on a generated ImageNet tree matching the real ImageNet-S-50 lists."""
from __future__ import annotations

import io
import os
import shutil
import zipfile

import pytest
from click.testing import CliRunner
from PIL import Image
from shared_reference import REFERENCE

from imagenet_s import archives, dataset, lists, prepare
from imagenet_s.cli import main
from plumbing.errors import BadInputError, ToolkitRuntimeError

LISTS = REFERENCE / "imagenet_s"
FILES = prepare.list_files(LISTS, "50")
TRAIN_PER_CLASS = 3


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (120, 30, 200)).save(buf, "JPEG")
    return buf.getvalue()


def make_imagenet(root, flat_val=False):
    """Every ImageNet file the ImageNet-S-50 lists name, plus a few training images per class; flat val/ comes
    with LOC_val_solution.csv."""
    data = _jpeg()
    files = {f"train/{w}/{w}_{i}.JPEG" for w in lists.read_categories(FILES["categories"]) for i in
             range(TRAIN_PER_CLASS)}
    files |= {f"train/{name.split('_')[0]}/{name}" for image, _ in lists.read_pairs(FILES["train-semi"])
              for name in [image.split("/")[1]]}
    val = {src for split in ("validation", "test") for src, _ in lists.read_pairs(FILES[split])}
    files |= {f"val/{src.split('/')[1]}" if flat_val else f"val/{src}" for src in val}
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    if flat_val:
        rows = [f"{src.split('/')[1][:-5]},{src.split('/')[0]} 1 2 5 6" for src in sorted(val)]
        (root / "LOC_val_solution.csv").write_text("ImageId,PredictionString\n" + "\n".join(rows) + "\n")
    return root


@pytest.fixture(scope="module")
def imagenet(tmp_path_factory):
    return make_imagenet(tmp_path_factory.mktemp("imagenet"))


@pytest.fixture(scope="module")
def imagenet_flat(tmp_path_factory):
    return make_imagenet(tmp_path_factory.mktemp("imagenet_flat"), flat_val=True)


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _prepare(imagenet, out, tmp_path, *extra, lists_dir=LISTS):
    """Without the annotation archive: an empty folder as its mirror."""
    (tmp_path / "no-archive").mkdir(exist_ok=True)
    return _run("prepare", "--imagenet-dir", imagenet, "--save-dir", out, "--mode", "50", "--lists", lists_dir,
                "--annotations", tmp_path / "no-archive", "--cache-dir", tmp_path / "cache", *extra)


def _verify(out, tmp_path):
    return _run("verify", "--root", out, "--mode", "50", "--lists", LISTS, "--cache-dir", tmp_path / "cache")


def _count(folder):
    return sum(1 for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def test_builds_the_official_layout_and_reruns_idempotently(imagenet, tmp_path):
    result = _prepare(imagenet, tmp_path / "out", tmp_path)
    assert result.exit_code == 0, result.output
    root = tmp_path / "out" / "ImageNetS50"
    assert _count(root / "validation") == 752 and _count(root / "test") == 1682 and _count(root / "train-semi") == 500
    trains = sorted((root / "train").iterdir())
    assert len(trains) == 50 and all(p.is_symlink() and len(list(p.iterdir())) >= TRAIN_PER_CLASS for p in trains)
    assert "segmentation folders not built" in result.output
    assert "imagenet-s download annotations --mode 50 --root DIR, then rerun with --annotations DIR" in result.output
    again = _prepare(imagenet, tmp_path / "out", tmp_path)
    assert again.exit_code == 0 and "complete, nothing changed (2984 entries already in place)" in again.output
    checked = _verify(tmp_path / "out", tmp_path)
    assert checked.exit_code == 0, checked.output
    assert "complete" in checked.output and "absent" in checked.output


def test_flat_val_with_devkit_labels_and_copies_after_download_lists(imagenet_flat, tmp_path):
    """The offline workflow: the lists from a folder mirror, then prepare reads them from that download root."""
    got = _run("download", "lists", "--mode", "50", "--root", tmp_path / "lists", "--mirror", LISTS,
               "--cache-dir", tmp_path / "dl-cache")
    assert got.exit_code == 0, got.output
    result = _prepare(imagenet_flat, tmp_path / "out", tmp_path, "--link", "copy", "--workers", "2",
                      lists_dir=tmp_path / "lists")
    assert result.exit_code == 0, result.output
    root = tmp_path / "out" / "ImageNetS50"
    assert _count(root / "validation") == 752 and _count(root / "train") == 50 * TRAIN_PER_CLASS + 500
    assert not any(p.is_symlink() for p in root.rglob("*"))
    assert _verify(tmp_path / "out", tmp_path).exit_code == 0


def test_devkit_labels_that_disagree_with_the_mapping_are_refused(imagenet_flat, tmp_path):
    labels = tmp_path / "LOC_val_solution.csv"
    text = (imagenet_flat / "LOC_val_solution.csv").read_text()
    first = text.splitlines()[1]
    labels.write_text(text.replace(first, first.split(",")[0] + ",n99999999 1 2 3 4"))
    result = _prepare(imagenet_flat, tmp_path / "out", tmp_path, "--val-labels", labels)
    assert result.exit_code == 2 and "n99999999" in result.output and not (tmp_path / "out").exists()


def test_ground_truth_file_with_synsets(tmp_path):
    (tmp_path / "gt.txt").write_text("2\n1\n2\n")
    (tmp_path / "synsets.txt").write_text("n01440764 tench\nn01443537 goldfish\n")
    labels = prepare.read_val_labels(tmp_path / "gt.txt", tmp_path / "synsets.txt")
    assert labels == {"ILSVRC2012_val_00000001.JPEG": "n01443537", "ILSVRC2012_val_00000002.JPEG": "n01440764",
                      "ILSVRC2012_val_00000003.JPEG": "n01443537"}
    with pytest.raises(BadInputError, match="needs --val-synsets"):
        prepare.read_val_labels(tmp_path / "gt.txt")


def test_interrupted_run_is_completed_by_the_rerun(imagenet, tmp_path):
    out = tmp_path / "out" / "ImageNetS50"
    entries = prepare.plan(imagenet, out, LISTS, "50", "hardlink")
    for entry in entries[:1000]:  # the first run stopped after 1000 entries, in the middle of a copy
        prepare.place(entry)
    stale = entries[1000].dst.parent / f".{entries[1000].dst.name}.prepare.tmp"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"half")
    result = _prepare(imagenet, tmp_path / "out", tmp_path, "--link", "hardlink")
    assert result.exit_code == 0, result.output
    assert f"{len(entries) - 1000} entries written, 1000 already in place" in result.output
    assert not stale.exists() and os.path.samefile(entries[0].dst, entries[0].src)
    assert _verify(tmp_path / "out", tmp_path).exit_code == 0


def test_missing_source_is_listed_and_nothing_is_written(tmp_path):
    imagenet = make_imagenet(tmp_path / "imagenet")
    src, _ = lists.read_pairs(FILES["test"])[7]
    (imagenet / "val" / src).unlink()
    result = _prepare(imagenet, tmp_path / "out", tmp_path)
    assert result.exit_code == 2
    assert "error: 1 source files or folders missing" in result.output and src.split("/")[1] in result.output
    wnid = lists.read_categories(FILES["categories"])[-1]
    shutil.rmtree(imagenet / "train" / wnid)
    result = _prepare(imagenet, tmp_path / "out", tmp_path)
    # the class folder, its 10 train-semi images and the validation image
    assert "error: 12 source files or folders missing" in result.output and f"train/{wnid}," in result.output
    assert not (tmp_path / "out").exists()


def test_user_files_are_never_overwritten(imagenet, tmp_path):
    dst, = [d for _, d in lists.read_pairs(FILES["validation"])[:1]]
    mine = tmp_path / "out" / "ImageNetS50" / "validation" / dst
    mine.parent.mkdir(parents=True)
    mine.write_text("mine")
    result = _prepare(imagenet, tmp_path / "out", tmp_path)
    assert result.exit_code == 2 and "not overwritten" in result.output
    assert mine.read_text() == "mine" and not (tmp_path / "out" / "ImageNetS50" / "test").exists()


def test_verify_names_the_incomplete_split_and_class(imagenet, tmp_path):
    assert _prepare(imagenet, tmp_path / "out", tmp_path).exit_code == 0
    _, dst = lists.read_pairs(FILES["test"])[0]
    (tmp_path / "out" / "ImageNetS50" / "test" / dst).unlink()
    result = _verify(tmp_path / "out", tmp_path)
    assert result.exit_code == 1 and f"test: 1 missing in 1 classes ({dst.split('/')[0]})" in result.output


def test_919_merges_five_classes_and_links_train_full(tmp_path):
    """The real 919 categories with short custom mapping/names lists: the merges are about train/ only."""
    wnids = lists.read_categories(LISTS / "categories" / "ImageNetS_categories_im919.txt", 919)
    custom = tmp_path / "lists"
    (custom / "categories").mkdir(parents=True)
    (custom / "categories" / "ImageNetS_categories_im919.txt").write_text("\n".join(wnids))
    (custom / "mapping").mkdir()
    (custom / "names").mkdir()
    (custom / "mapping" / "ImageNetS_im919_mapping_validation.txt").write_text(
        "n01440764/ILSVRC2012_val_00000293.JPEG n01440764/ILSVRC2012_val_00000293.JPEG")
    (custom / "mapping" / "ImageNetS_im919_mapping_test.txt").write_text(
        "n02655020/ILSVRC2012_val_00045811.JPEG n01440764/ILSVRC2012_val_00045811.JPEG")
    (custom / "names" / "ImageNetS_im919_validation.txt").write_text(
        "n01440764/ILSVRC2012_val_00000293.JPEG n01440764/ILSVRC2012_val_00000293.png")
    (custom / "names" / "ImageNetSemi_im919_train.txt").write_text(
        "n02808440/n04493381_27386.JPEG n02808440/n04493381_27386.png")
    imagenet = tmp_path / "imagenet"
    data = _jpeg()
    for wnid in [*wnids, *prepare.MERGES_919]:
        (imagenet / "train" / wnid).mkdir(parents=True)
        (imagenet / "train" / wnid / f"{wnid}_1.JPEG").write_bytes(data)
    (imagenet / "train" / "n04493381" / "n04493381_27386.JPEG").write_bytes(data)
    for src in ("n01440764/ILSVRC2012_val_00000293.JPEG", "n02655020/ILSVRC2012_val_00045811.JPEG"):
        (imagenet / "val" / src).parent.mkdir(parents=True, exist_ok=True)
        (imagenet / "val" / src).write_bytes(data)
    out = tmp_path / "out"
    written, kept = prepare.build(prepare.plan(imagenet, out, custom, "919", "symlink"), progress=False)
    assert set(prepare.MERGES_919).isdisjoint(wnids) and kept == 0
    bathtub = out / "train" / "n02808440"  # receives n04493381
    assert not bathtub.is_symlink()
    assert sorted(p.name for p in bathtub.iterdir()) == ["n02808440_1.JPEG", "n04493381_1.JPEG",
                                                         "n04493381_27386.JPEG"]
    assert (out / "train" / "n01440764").is_symlink() and not (out / "train" / "n04493381").exists()
    assert os.readlink(out / "train-full") == str((imagenet / "train").resolve())
    assert (out / "train-semi" / "n02808440" / "n04493381_27386.JPEG").is_file()
    assert (out / "test" / "n01440764" / "ILSVRC2012_val_00045811.JPEG").is_file()
    # 914 class folder links, 5 merge targets with 2 files each (+1 for the train-semi image), train-full, one
    # train-semi, one validation and one test image
    assert written == 914 + 5 * 2 + 1 + 1 + 3


def _mask_archive(path, extra=()):
    """An archive shaped like ImageNetS50-<md5>.zip: every mask the ImageNet-S-50 lists name."""
    masks = [m for _, m in lists.read_pairs(FILES["names"])]
    semi = [m for _, m in lists.read_pairs(FILES["train-semi"])]
    with zipfile.ZipFile(path, "w") as z:
        for folder, names in (("validation-segmentation", masks), ("train-semi-segmentation", semi)):
            for name in names:
                z.writestr(f"ImageNetS50/{folder}/{name}", b"\x89PNG mask " + name.encode())
        for name in extra:
            z.writestr(name, b"x")
    return len(masks), len(semi)


def test_segmentation_folders_from_the_archive_complete_the_layout(imagenet, tmp_path):
    assert _prepare(imagenet, tmp_path / "out", tmp_path).exit_code == 0
    val, semi = _mask_archive(tmp_path / "a.zip", extra=["ImageNetS50/readme.txt"])
    out = tmp_path / "out" / "ImageNetS50"
    assert archives.unpack_segmentation(tmp_path / "a.zip", out, progress=False) == (val + semi, 0)
    assert archives.unpack_segmentation(tmp_path / "a.zip", out, progress=False) == (0, val + semi)
    checked = _verify(tmp_path / "out", tmp_path)
    assert checked.exit_code == 0 and "absent" not in checked.output
    mask = next((out / "validation-segmentation").rglob("*.png"))
    mask.write_bytes(b"edited")
    with pytest.raises(BadInputError, match="1 files differ from a.zip"):
        archives.unpack_segmentation(tmp_path / "a.zip", out, progress=False)
    assert mask.read_bytes() == b"edited"


def test_archive_with_unsafe_or_no_segmentation_members_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as z:
        z.writestr("x/validation-segmentation/../../../escape.png", b"x")
    with pytest.raises(BadInputError, match="unsafe member"):
        archives.unpack_segmentation(tmp_path / "evil.zip", tmp_path / "out")
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as z:
        z.writestr("readme.txt", b"x")
    with pytest.raises(BadInputError, match="no validation-segmentation/ or train-semi-segmentation/ inside"):
        archives.unpack_segmentation(tmp_path / "empty.zip", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_corrupt_annotation_archive_fails_prepare_and_unpacks_nothing(imagenet, tmp_path):
    """A mirror holding an archive whose md5 is not the published one: the layout is built, the archive is refused
    (exit code 1, the reason named), kept aside, and no segmentation folder appears."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    _mask_archive(mirror / "ImageNetS50-a0fe9d82231f9bc4787ee76e304dfa51.zip")  # right name, other bytes
    result = _run("prepare", "--imagenet-dir", imagenet, "--save-dir", tmp_path / "out", "--mode", "50", "--lists",
                  LISTS, "--annotations", mirror, "--cache-dir", tmp_path / "cache")
    assert result.exit_code == 1, result.output
    assert "its md5 is" in result.output and "expected a0fe9d82231f9bc4787ee76e304dfa51" in result.output
    out = tmp_path / "out" / "ImageNetS50"
    assert (out / "validation").is_dir()
    assert not (out / "validation-segmentation").exists() and not (out / "train-semi-segmentation").exists()


def test_prepare_and_verify_are_library_calls(imagenet, tmp_path):
    """The workflows behind the commands, called directly (the command line only prints their lines)."""
    (tmp_path / "none").mkdir()
    lines = list(dataset.prepare_dataset(imagenet, tmp_path / "out", "50", lists_mirror=str(LISTS),
                                         archive_mirror=str(tmp_path / "none"), cache_dir=tmp_path / "cache"))
    assert lines[0].endswith("2984 entries written, 0 already in place")
    assert lines[1].startswith("  segmentation folders not built")
    report = list(dataset.verify_dataset(tmp_path / "out", "50", str(LISTS), tmp_path / "cache"))
    assert report[0].endswith("(ImageNet-S-50)") and report[-1] == "complete"
    shutil.rmtree(tmp_path / "out" / "ImageNetS50" / "validation" / sorted(os.listdir(
        tmp_path / "out" / "ImageNetS50" / "validation"))[0])
    with pytest.raises(ToolkitRuntimeError, match="incomplete splits"):
        list(dataset.verify_dataset(tmp_path / "out", "50", str(LISTS), tmp_path / "cache"))
