#!/usr/bin/env bash
# Installs mmcv with its compiled ops into the venv of $PY, built from source against the torch installed there.
#
# The built wheel is kept in a cache folder whose name carries the mmcv, torch and Python versions
# ($MMCV_CACHE_ROOT, default ~/.cache/rawseg-bench), so a rerun or CI on the same machine reuses it and a wheel built
# against another torch is never picked up. pip's own wheel cache is bypassed (--no-cache-dir): it keys mmcv by name
# and version only. The build needs --no-build-isolation (an isolated build "succeeds" without the ops) and the
# C++20 wrapper beside this script (torch >= 2.10 headers need C++20; mmcv 2.1.0 asks for C++17).
set -euo pipefail
PY=${PY:?set PY to the venv python}
MMCV_VERSION=${MMCV_VERSION:-2.1.0}
MAX_JOBS=${MAX_JOBS:-2}
here=$(cd "$(dirname "$0")" && pwd)
tag=$("$PY" -c 'import sys, torch; print("mmcv-%s-torch-%s-py%d%d" % (sys.argv[1], torch.__version__.split("+")[0], *sys.version_info[:2]))' "$MMCV_VERSION")
cache="${MMCV_CACHE_ROOT:-$HOME/.cache/rawseg-bench}/$tag"

has_ops() { "$PY" -c 'import torch, mmcv.ops; mmcv.ops.nms(torch.rand(3, 4), torch.rand(3), 0.5)' >/dev/null 2>&1; }

if has_ops && [ "$("$PY" -c 'import mmcv; print(mmcv.__version__)')" = "$MMCV_VERSION" ]; then
  echo "mmcv $MMCV_VERSION with ops: already installed"; exit 0
fi
wheel=$(ls "$cache"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  echo "building mmcv $MMCV_VERSION with its ops against ${tag#mmcv-$MMCV_VERSION-} (about 35 min on 2 cores) -> $cache"
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/.build.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  CXX="$here/cxx20" MMCV_WITH_OPS=1 MAX_JOBS=$MAX_JOBS \
    "$PY" -m pip wheel --quiet --no-cache-dir --no-build-isolation --no-deps "mmcv==$MMCV_VERSION" -w "$work"
  built=$(ls "$work"/mmcv-*.whl)
  mv "$built" "$cache/"
  wheel="$cache/$(basename "$built")"
fi
"$PY" -m pip uninstall --quiet -y mmcv >/dev/null 2>&1 || true
# with its dependencies (mmengine among them: mmcv.ops imports it), never another torch
"$PY" -m pip install --quiet --no-cache-dir "$wheel" "${MMENGINE:-mmengine==0.10.7}" "torch==$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])')"
has_ops || { echo "error: mmcv from $wheel has no working compiled ops (mmcv.ops.nms failed)" >&2; exit 1; }
echo "mmcv $MMCV_VERSION with ops: ok ($wheel)"
