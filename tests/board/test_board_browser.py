"""The leaderboard site in a real browser: Debian's headless Chromium, driven through Playwright over the DevTools
protocol, loads the generated site from a loopback HTTP server (and from disk)."""
from __future__ import annotations

import csv
import zipfile

import pytest
from board_data import detection_zip, jittered, method_txt
from click.testing import CliRunner
from headless import chromium_path
from luss.luss_data import make_pairs, write_pairs

from aodraw.cli import main as aodraw_main
from aodraw.leaderboard import reference_rows
from imagenet_s.cli import main as imagenet_main

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(detection_set, tmp_path_factory):
    """Both benchmarks' boards in one site, built once for the module (the tests only read it): (site folder,
    AODRaw CSV rows, ImageNet-S CSV rows)."""
    chromium_path()  # skip (or fail under CI) before building anything
    gt, dt = detection_set
    tmp_path = tmp_path_factory.mktemp("site")
    subs = tmp_path / "subs"
    subs.mkdir()
    detection_zip(subs / "alpha.zip", dt, method_txt("Alpha"))
    detection_zip(subs / "beta.zip", jittered(dt, 4.0), method_txt("Beta", kind="srgb"))
    detection_zip(subs / "gamma.zip", jittered(dt, 9.0, seed=2), method_txt("Gamma"))
    site = tmp_path / "site"
    run = CliRunner().invoke(aodraw_main, ["leaderboard", str(subs), "--gt", str(gt), "--out",
                                           str(tmp_path / "a.csv"), "--html", str(site)])
    assert run.exit_code == 0, run.output
    gt_dir, pred_dir, names = write_pairs(tmp_path / "luss", make_pairs(7, 6, 50))
    luss = tmp_path / "luss_subs"
    luss.mkdir()
    with zipfile.ZipFile(luss / "pass.zip", "w") as zf:
        for name in names:
            zf.write(pred_dir / name, name)
        zf.writestr("method.txt", "Method name: PASS\n")
    run = CliRunner().invoke(imagenet_main, ["leaderboard", str(luss), "--gt-dir", str(gt_dir), "--mode", "50",
                                             "--out", str(tmp_path / "l.csv"), "--html", str(site), "--workers", "1"])
    assert run.exit_code == 0, run.output
    return site, list(csv.DictReader((tmp_path / "a.csv").open())), list(csv.DictReader((tmp_path / "l.csv").open()))


def column(page, index: int) -> list[str]:
    return page.eval_on_selector_all(
        "table.sortable tbody tr", f"rows => rows.map(r => r.cells[{index}].getAttribute('data-value'))")


def header_index(page, label: str) -> int:
    labels = page.eval_on_selector_all("table.sortable thead th", "cells => cells.map(c => c.textContent.trim())")
    return labels.index(label)


def numbers(values: list[str]) -> list[float]:
    return [float(v) for v in values if v]


def test_board_sorts_by_click_and_keyboard_and_pages_link_back(site, browser_page, serve, tmp_path):
    folder, aodraw_rows, luss_rows = site
    page = browser_page
    base = serve(folder)
    page.goto(f"{base}/index.html")
    assert page.locator("main h1").inner_text() == "Leaderboards"
    assert page.locator("ul.boards a").all_inner_texts() == ["AODRaw (aodraw preset)", "ImageNet-S50 (LUSS)"]
    page.click("text=AODRaw (aodraw preset)")
    page.wait_for_url(f"{base}/aodraw-aodraw/index.html")

    # rows and numbers: three submissions best first among the published baselines, values as in the CSV
    body = page.locator("table.sortable tbody tr")
    assert body.count() == 3 + len(reference_rows("aodraw"))
    assert page.locator("tr.reference").count() == len(reference_rows("aodraw"))
    scored = page.locator("tbody tr:not(.reference) th").all_inner_texts()
    assert scored == ["Alpha", "Beta", "Gamma"] == [r["method"] for r in aodraw_rows]
    ap = header_index(page, "AP")
    cells = page.locator("tbody tr:not(.reference)").evaluate_all(
        f"rows => rows.map(r => r.cells[{ap}].textContent)")
    assert cells == [f"{100 * float(r['AP']):.1f}" for r in aodraw_rows]
    assert numbers(column(page, ap)) == sorted(numbers(column(page, ap)), reverse=True)
    assert page.locator("thead th").nth(ap).get_attribute("aria-sort") == "descending"

    # click a header button: sorts ascending, then descending again
    page.locator("thead th").nth(ap).locator("button").click()
    assert page.locator("thead th").nth(ap).get_attribute("aria-sort") == "ascending"
    assert numbers(column(page, ap)) == sorted(numbers(column(page, ap)))
    assert page.locator("#sort-status").inner_text() == "Sorted by AP, ascending."
    method = header_index(page, "Method")
    page.locator("thead th").nth(method).locator("button").click()
    names = [v.lower() for v in column(page, method)]
    assert names == sorted(names)

    # the keyboard: focus a header button, Enter sorts (numbers descending first), Space flips it
    fog = header_index(page, "fog")
    page.locator("thead th").nth(fog).locator("button").focus()
    page.keyboard.press("Enter")
    assert page.locator("thead th").nth(fog).get_attribute("aria-sort") == "descending"
    assert page.locator("thead th").nth(method).get_attribute("aria-sort") is None
    values = numbers(column(page, fog))
    assert len(values) == 3 and values == sorted(values, reverse=True)
    page.keyboard.press("Space")
    assert numbers(column(page, fog)) == sorted(values)
    rank = header_index(page, "Rank")
    page.locator("thead th").nth(rank).locator("button").click()  # lower is better: ascending first
    assert page.locator("thead th").nth(rank).get_attribute("aria-sort") == "ascending"
    assert column(page, rank)[:4] == ["1", "2", "3", ""]
    shaded = page.locator("tbody tr:not(.reference) td").nth(fog - 1).evaluate(
        "cell => getComputedStyle(cell).backgroundColor")
    assert shaded.startswith("rgba(26, 127, 85")
    page.screenshot(path=str(tmp_path / "board.png"), full_page=True)

    # a submission page: metrics, plots that load, the link back
    page.click("tbody th a:text-is('Beta')")
    assert page.locator("h1").inner_text() == "Beta"
    assert page.locator("dd").first.inner_text() == "Beta"
    widths = page.locator("img").evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert len(widths) == 2 and min(widths) > 100
    overall = page.locator("table").first.locator("tbody td").first.inner_text()
    assert overall == f"{100 * float(aodraw_rows[1]['AP']):.1f}"
    categories = page.locator("details table tbody tr")
    assert not categories.first.is_visible()
    page.click("details summary")  # the long per-category table opens on demand
    assert categories.first.is_visible() and categories.count() == 61  # the synthetic set's object classes
    page.screenshot(path=str(tmp_path / "submission.png"), full_page=True)
    page.click("a[rel=up]")
    page.wait_for_url(f"{base}/aodraw-aodraw/index.html")
    page.click("text=All leaderboards")
    page.click("text=ImageNet-S50 (LUSS)")
    luss_scored = page.locator("tbody tr:not(.reference)")
    miou = header_index(page, "mIoU")
    assert luss_scored.count() == 1
    assert luss_scored.first.locator("td").nth(miou - 1).inner_text() == f"{float(luss_rows[0]['mIoU']):.2f}"
    page.click("tbody th a:text-is('PASS')")
    assert page.locator("img").evaluate("i => i.naturalWidth") > 100
    page.click("a[rel=up]")
    assert page.url == f"{base}/imagenet-s-50/index.html"

    assert page.problems == []
    assert (tmp_path / "board.png").stat().st_size > 10_000 and (tmp_path / "submission.png").stat().st_size > 10_000


def test_site_reads_without_javascript_and_from_disk(site, browser_page):
    folder, aodraw_rows, _luss = site
    page = browser_page
    page.context.set_offline(True)  # and nothing is fetched from anywhere
    page.goto((folder / "aodraw-aodraw" / "index.html").as_uri())
    assert page.locator("thead th button").count() > 0  # the script ran from disk
    assert page.locator("tbody tr:not(.reference) th").all_inner_texts() == [r["method"] for r in aodraw_rows]
    page.context.set_offline(False)
    assert page.problems == []


def test_without_javascript_the_table_is_ordered_and_complete(site, browser_page_without_js, serve):
    folder, aodraw_rows, _luss = site
    page = browser_page_without_js
    page.goto(f"{serve(folder)}/aodraw-aodraw/index.html")
    assert page.locator("thead th button").count() == 0 and page.locator("#sort-hint").is_hidden()
    assert page.locator("tbody tr:not(.reference) th").all_inner_texts() == [r["method"] for r in aodraw_rows]
    ap = page.eval_on_selector_all("table thead th", "cells => cells.map(c => c.textContent.trim())").index("AP")
    values = page.eval_on_selector_all("table tbody tr", f"rows => rows.map(r => r.cells[{ap}].dataset.value)")
    values = [float(v) for v in values if v]
    assert values == sorted(values, reverse=True)
