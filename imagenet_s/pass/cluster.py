"""PASS clustering (upstream ``cluster.py``): image-level embeddings of ``train`` (resize 256, centre crop 224,
attention-pooled pixel embeddings), k-means with K = number of classes (faiss: ``niter`` iterations x ``nredo``
restarts, 20 x 30 upstream; scikit-learn's KMeans where faiss is missing), centroids and ``wnid/file label``
lists written, train NMI and Hungarian accuracy reported."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from plumbing.errors import BadInputError
from plumbing.files import atomic_write_text, save_npy

from .data import center_crop, list_images, load_rgb, normalize, resize_shorter
from .model import PASSNet, load_checkpoint


@torch.no_grad()
def pixel_outputs(model: PASSNet, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(embedding (D, h, w) L2-normalised per pixel, attention (h, w)) of one normalised (3, H, W) image."""
    model.eval()
    out = model(image[None].to(next(model.parameters()).device))
    return out["embedding"][0].cpu(), out["attention"][0, 0].cpu()


def pooled_embedding(embedding: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
    """The attention-weighted mean of the pixel embeddings, L2-normalised: (D,)."""
    emb = (embedding * attention).sum(dim=(1, 2)) / attention.sum().clamp_min(1e-6)
    return F.normalize(emb, dim=0)


def kmeans(x: np.ndarray, k: int, iterations: int = 20, restarts: int = 30, seed: int = 0) -> np.ndarray:
    """k-means centroids (k, D) float32 of the rows of ``x``: faiss (``niter``, ``nredo``) when installed, else
    scikit-learn (``max_iter``, ``n_init``). Raises BadInputError for fewer rows than clusters."""
    x = np.ascontiguousarray(x, np.float32)
    if len(x) < k:
        raise BadInputError(f"k-means: {len(x)} images for {k} clusters")
    try:
        import faiss
    except ImportError:
        from sklearn.cluster import KMeans

        km = KMeans(k, max_iter=iterations, n_init=restarts, random_state=seed).fit(x)
        return km.cluster_centers_.astype(np.float32)
    km = faiss.Kmeans(x.shape[1], k, niter=iterations, nredo=restarts, seed=seed, verbose=False,
                      min_points_per_centroid=1)
    km.train(x)
    return np.asarray(km.centroids, np.float32)


def assign_clusters(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """1-based cluster per row: the largest cosine to the L2-normalised centroids, + 1 (label 0 is background)."""
    c = centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    return np.argmax(x @ c.T, axis=1) + 1


def cluster_scores(truth: np.ndarray, labels: np.ndarray) -> dict:
    """Train NMI (scikit-learn) and Hungarian accuracy (best one-to-one cluster -> class), in percent."""
    from scipy.optimize import linear_sum_assignment
    from sklearn.metrics import confusion_matrix, normalized_mutual_info_score

    classes, clusters = np.unique(truth), np.unique(labels)
    table = confusion_matrix(truth, labels, labels=np.union1d(classes, clusters))
    rows, cols = linear_sum_assignment(-table)
    return {"NMI": float(normalized_mutual_info_score(truth, labels)) * 100,
            "accuracy": float(table[rows, cols].sum() / len(truth)) * 100}


def run_cluster(cfg: dict, data_root: str | Path, work_dir: str | Path, *, log=print) -> dict:
    """Cluster the ``train`` images with the attention model ``WORK/attention.pth``.

    Writes ``WORK/cluster/centroids.npy`` (K, D float32), ``labels.txt`` (``wnid/file label`` per image, labels
    1..K) and ``metrics.json`` (``NMI``, ``accuracy`` in percent, ``num_images``, ``k``); returns the metrics.
    Skipped when ``metrics.json`` exists."""
    out = Path(work_dir) / "cluster"
    if (out / "metrics.json").is_file():
        log(f"{out / 'metrics.json'} exists: cluster already done")
        return json.loads((out / "metrics.json").read_text())
    ccfg = cfg["cluster"]
    model, _ = load_checkpoint(Path(work_dir) / "attention.pth")
    folder = Path(data_root) / cfg.get("train_split", "train")
    names = list_images(folder)
    rows = []
    for name in names:
        image = center_crop(resize_shorter(load_rgb(folder / name), ccfg["resize"]), ccfg["crop"])
        rows.append(pooled_embedding(*pixel_outputs(model, normalize(image))).numpy())
    x = np.stack(rows)
    centroids = kmeans(x, ccfg["k"], ccfg["iterations"], ccfg["restarts"], cfg.get("seed", 0))
    labels = assign_clusters(x, centroids)
    wnids = sorted({n.split("/")[0] for n in names})
    truth = np.array([wnids.index(n.split("/")[0]) for n in names])
    metrics = {**cluster_scores(truth, labels), "num_images": len(names), "k": ccfg["k"]}
    save_npy(out / "centroids.npy", centroids)
    atomic_write_text(out / "labels.txt", "\n".join(f"{n} {int(lab)}" for n, lab in zip(names, labels)))
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    log(f"clustered {len(names)} images into {ccfg['k']}: NMI {metrics['NMI']:.2f}, "
        f"accuracy {metrics['accuracy']:.2f}")
    return metrics
