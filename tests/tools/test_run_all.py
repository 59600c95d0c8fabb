"""``make bench``'s summary reads every benchmark's comparison lines, whatever their units and peer names."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "benchmarks"))

from run_all import BENCHMARKS, HERE, comparisons  # noqa: E402


def test_every_benchmark_script_is_run():
    assert sorted(BENCHMARKS.values()) == sorted(p.name for p in HERE.glob("bench_*.py"))


def test_comparison_lines_are_parsed_and_other_lines_ignored():
    lines = ["coco-20: ours 0.301 s, peak 155 MB (median of 3)",
             "coco-20: ours 0.301 | hotcoco 0.169 | ratio 0.56x | identical: yes [peak 110 MB, 3 run(s)]",
             "evaluate 919: ours 0.0046 s/img | official 0.1200 s/img | ratio 26.1x | identical: yes",
             "unprocess 32 x 224x224: ours (numpy) 0.1000 s | torch batched 0.1510 s | ratio 1.51x | identical: no",
             "slice raw: ours 0.440 s | official n/a | ratio n/a | identical: n/a"]
    found = comparisons(lines)
    assert [(c["work"], c["ours"], c["unit"], c["peer"], c["theirs"], c["ratio"], c["identical"]) for c in found] == [
        ("coco-20", "0.301", "", "hotcoco", "0.169", "0.56x", "yes [peak 110 MB, 3 run(s)]"),
        ("evaluate 919", "0.0046", "s/img", "official", "0.1200", "26.1x", "yes"),
        ("unprocess 32 x 224x224", "0.1000", "s", "torch batched", "0.1510", "1.51x", "no"),
        ("slice raw", "0.440", "s", "official", "n/a", "n/a", "n/a")]
