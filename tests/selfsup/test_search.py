"""HSSL's auxiliary-head search: the CKA proxy by hand, and the command's ranked table/JSON on a tiny image folder."""
from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from imagenet_s.cli import main
from imagenet_s.selfsup.hssl_search import linear_cka


def test_linear_cka_by_hand():
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    rotation = torch.tensor([[0.0, -1.0], [1.0, 0.0]])
    assert linear_cka(x, 3 * x @ rotation) == pytest.approx(1.0)
    y = torch.tensor([[1.0], [-1.0], [0.0]])
    # centred x = x; x'x = [[2, 1], [1, 2]] (norm sqrt 10); y'y = 2; y'x = [1, -1] (squared norm 2)
    assert linear_cka(x, y) == pytest.approx(2 / (10 ** 0.5 * 2))


def test_search_head_prints_a_ranked_table_and_json(image_folder, tmp_path):
    out = tmp_path / "search.json"
    args = ["selfsup", "search-head", str(image_folder), "--candidates", "convnext-1,transformer-1", "--steps", "2",
            "--batch-size", "2", "--image-size", "32", "--json", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "rank" in result.output and "convnext-1" in result.output and "transformer-1" in result.output
    data = json.loads(out.read_text())
    assert [r["rank"] for r in data["candidates"]] == [1, 2]
    scores = [r["discrepancy"] for r in data["candidates"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert data["steps"] == 2 and data["images"] == 8
    as_json = CliRunner().invoke(main, [*args[:-2], "--candidates", "mixer-1", "--format", "json"])
    assert as_json.exit_code == 0 and json.loads(as_json.stdout)["candidates"][0]["head"] == "mixer-1"
    bad = CliRunner().invoke(main, ["selfsup", "search-head", str(image_folder), "--candidates", "nope"])
    assert bad.exit_code == 2 and bad.output.startswith("error: unknown candidate head")
    bad = CliRunner().invoke(main, ["selfsup", "search-head", str(image_folder), "--arch", "vit-xxl"])
    assert bad.exit_code == 2 and bad.output.startswith("error: --arch 'vit-xxl'"), bad.output
