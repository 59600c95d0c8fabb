"""Test a trained detector: AODRaw metric overall and per condition (MMDetection's ``tools/test.py`` habits).

    python tools/test.py CONFIG CHECKPOINT [--json-prefix results/run]     # scores, writes run.bbox.json
    python tools/test.py CONFIG CHECKPOINT --format-only --json-prefix sub  # only the COCO results
    bash tools/dist_test.sh CONFIG CHECKPOINT 8
"""
import argparse

from aodraw.mmdet.launch import build_runner, load_config, run_arguments
from plumbing.cli import run_script


def parse_args():
    parser = argparse.ArgumentParser(description="Test (and evaluate) a detector")
    parser.add_argument("config", help="config file, or the name of a shipped recipe")
    parser.add_argument("checkpoint", help="checkpoint file")
    parser.add_argument("--work-dir", help="where the logs and the evaluation JSON go")
    parser.add_argument("--json-prefix", help="write PREFIX.bbox.json (COCO results) and PREFIX.eval.json")
    parser.add_argument("--format-only", action="store_true",
                        help="only write the COCO results (a leaderboard submission); needs --json-prefix")
    parser.add_argument("--out", help="also dump the raw predictions to this .pkl file")
    parser.add_argument("--show-dir", help="draw predictions into this folder (under the work dir)")
    run_arguments(parser)
    args = parser.parse_args()
    if args.format_only and not args.json_prefix:
        parser.error("--format-only needs --json-prefix")  # usage: exit code 2
    return args


def main():
    args = parse_args()
    cfg = load_config(args.config, args.work_dir, args.cfg_options, args.launcher)
    cfg.load_from = args.checkpoint
    if args.json_prefix:
        cfg.test_evaluator.outfile_prefix = args.json_prefix
        cfg.test_evaluator.format_only = args.format_only
    if args.out:
        evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [cfg.test_evaluator]
        cfg.test_evaluator = [*evaluators, dict(type="DumpDetResults", out_file_path=args.out)]
    if args.show_dir:
        cfg.default_hooks.visualization.update(draw=True, test_out_dir=args.show_dir)
    build_runner(cfg).test()


if __name__ == "__main__":
    run_script(main)
