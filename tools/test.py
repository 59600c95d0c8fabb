"""Test a trained detector or segmentor (MMDetection's / MMSegmentation's ``tools/test.py`` habits): the AODRaw
metric overall and per condition, or the official LUSS metrics of ImageNet-S.

    python tools/test.py CONFIG CHECKPOINT [--json-prefix results/run]     # scores, writes run.bbox.json (detection)
    python tools/test.py CONFIG CHECKPOINT --format-only --json-prefix sub  # only the COCO results (detection)
    python tools/test.py SEG_CONFIG CHECKPOINT --json-prefix run --pred-dir preds/  # run.eval.json, official PNGs
    bash tools/dist_test.sh CONFIG CHECKPOINT 8
"""
import argparse
from pathlib import Path

from launch_any import launcher_for

from mmglue.launch import run_arguments
from plumbing.cli import run_script
from plumbing.errors import BadInputError, MissingInputError


def parse_args():
    parser = argparse.ArgumentParser(description="Test (and evaluate) a detector or a segmentor")
    parser.add_argument("config", help="config file, or the name of a shipped recipe")
    parser.add_argument("checkpoint", help="checkpoint file")
    parser.add_argument("--work-dir", help="where the logs and the evaluation JSON go")
    parser.add_argument("--json-prefix", help="write PREFIX.eval.json (and for detection PREFIX.bbox.json)")
    parser.add_argument("--format-only", action="store_true",
                        help="detection: only write the COCO results (a leaderboard submission); needs --json-prefix")
    parser.add_argument("--pred-dir", help="segmentation: also write the predictions as official PNGs "
                                           "(PRED_DIR/wnid/NAME.png, original size)")
    parser.add_argument("--out", help="detection: also dump the raw predictions to this .pkl file")
    parser.add_argument("--show-dir", help="draw predictions into this folder (under the work dir)")
    run_arguments(parser)
    args = parser.parse_args()
    if args.format_only and not args.json_prefix:
        parser.error("--format-only needs --json-prefix")  # usage: exit code 2
    return args


def main():
    args = parse_args()
    launch = launcher_for(args.config)
    if not Path(args.checkpoint).is_file():
        raise MissingInputError(f"{args.checkpoint}: checkpoint file not found")
    segmentation = launch.__name__.startswith("imagenet_s")
    cfg = launch.load_config(args.config, args.work_dir, args.cfg_options, args.launcher)
    cfg.load_from = args.checkpoint
    if segmentation:
        if args.format_only or args.out:
            raise BadInputError("--format-only and --out are for detection configs; segmentation writes PNGs with "
                                "--pred-dir (or `imagenet-s infer` for a submission)")
        if args.json_prefix:
            cfg.test_evaluator.output_file = f"{args.json_prefix}.eval.json"
        if args.pred_dir:
            cfg.custom_hooks = [*(cfg.get("custom_hooks") or []),
                                dict(type="SaveLUSSPredictionsHook", out_dir=args.pred_dir)]
    else:
        if args.pred_dir:
            raise BadInputError("--pred-dir is for segmentation configs")
        if args.json_prefix:
            cfg.test_evaluator.outfile_prefix = args.json_prefix
            cfg.test_evaluator.format_only = args.format_only
        if args.out:
            evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [cfg.test_evaluator]
            cfg.test_evaluator = [*evaluators, dict(type="DumpDetResults", out_file_path=args.out)]
    if args.show_dir and segmentation:  # MMSegmentation's habit: the visualizer saves under the show dir
        cfg.default_hooks.visualization.update(draw=True, interval=1)
        cfg.visualizer.save_dir = args.show_dir
    elif args.show_dir:
        cfg.default_hooks.visualization.update(draw=True, test_out_dir=args.show_dir)
    launch.build_runner(cfg).test()


if __name__ == "__main__":
    run_script(main)
