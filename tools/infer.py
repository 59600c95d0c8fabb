"""Run a trained detector over images fast and write COCO results (the same code as ``aodraw infer``).

    python tools/infer.py CONFIG CHECKPOINT --ann test.json --out results.json [--batch-size 8] [--amp bf16]
    python tools/infer.py CONFIG CHECKPOINT --images full_res_packs/ --out results.json --slices 1280:300
"""
import argparse
import sys

from plumbing.errors import ToolkitError


def parse_args():
    parser = argparse.ArgumentParser(description="Batched detector inference to a COCO results JSON "
                                                 "(see `aodraw infer --help` for the details of each option)")
    parser.add_argument("config", help="config file, or the name of a shipped recipe")
    parser.add_argument("checkpoint", help="checkpoint file")
    parser.add_argument("--images", metavar="DIR", help="image folder (alone: every image file, ids by position)")
    parser.add_argument("--ann", metavar="ANN.json", help="COCO annotation file naming the images and their ids")
    parser.add_argument("--out", required=True, metavar="RESULTS.json", help="COCO results to write")
    parser.add_argument("--batch-size", type=int, default=1, help="images (or windows) per forward pass")
    parser.add_argument("--amp", choices=["bf16", "fp16", "off"],
                        help="backbone and neck precision; default: bf16 on CUDA, off on the CPU")
    parser.add_argument("--slices", metavar="SIZE:GAP", help="sliced inference on full-resolution images")
    parser.add_argument("--nms-iou", type=float, default=0.6, help="with --slices: NMS IoU across windows")
    parser.add_argument("--device", choices=["cuda", "cpu"], help="default: cuda when available")
    parser.add_argument("--workers", type=int, help="loader worker processes (default: CPU count, at most 8)")
    parser.add_argument("--report", metavar="REPORT.json", help="also write the speed report as JSON")
    return parser.parse_args()


def main():
    args = parse_args()
    from aodraw.mmdet.infer import report_table, run_inference

    try:
        summary = run_inference(args.config, args.checkpoint, args.out, images=args.images, ann=args.ann,
                                batch_size=args.batch_size, amp=args.amp, slices=args.slices, device=args.device,
                                workers=args.workers, nms_iou=args.nms_iou, report=args.report)
    except ToolkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    print(report_table(summary))


if __name__ == "__main__":
    main()
