# `make demo` and `make test` work on a fresh clone: they create .venv/ and install what they need into it.
#   make demo       the core only (no torch, no mmcv): a minute or two on a fresh machine
#   make test       everything (torch, torchvision, mmcv built from source, mmdet, mmpretrain, mmseg), every test
#   make test-core  the quick loop: the core + test tools, every test that needs no train extra
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
CORE := $(VENV)/.core-installed
DEV := $(VENV)/.dev-installed
FULL := $(VENV)/.full-installed
TORCH_VERSION ?= 2.14.1
TORCHVISION_VERSION ?= 0.29.1
MMCV_VERSION ?= 2.1.0
MAX_JOBS ?= 2

.PHONY: install install-core install-dev demo test test-core bench lint clean

install-core: $(CORE)
install-dev: $(DEV)
install: $(FULL)

$(CORE): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -e .
	touch $@

$(DEV): $(CORE)
	$(PIP) install --quiet -e '.[dev]'
	touch $@

# torch and torchvision first, pinned (a bare `torch` requirement would pull another build), then mmcv built from
# source against that torch with its compiled ops (tools/build/mmcv.sh: C++20, no build isolation, the wheel cached
# under ~/.cache/rawseg-bench/ in a folder named for the torch version; ~35 min on 2 cores the first time), then the
# train extra, which finds mmcv already there.
$(FULL): $(DEV) tools/build/mmcv.sh tools/build/cxx20
	$(PIP) install --quiet torch==$(TORCH_VERSION) torchvision==$(TORCHVISION_VERSION) setuptools==80.9.0 wheel ninja
	PY=$(PY) MMCV_VERSION=$(MMCV_VERSION) MAX_JOBS=$(MAX_JOBS) bash tools/build/mmcv.sh
	$(PIP) install --quiet -e '.[train,onnx,dev]'
	$(PY) -c "import torch, torchvision, mmcv.ops, mmdet, mmpretrain, mmseg; mmcv.ops.nms(torch.rand(3, 4), torch.rand(3), 0.5); print('train extra: ok (torch', torch.__version__, 'mmcv', mmcv.__version__, ')')"
	touch $@

demo: $(CORE)
	$(VENV)/bin/aodraw demo --out demo_out

test: $(FULL)
	$(PY) -m pytest -q

test-core: $(DEV)
	$(PY) -m pytest -q -m "not train"

bench: $(FULL)
	$(PY) tools/benchmarks/run_all.py

lint: $(DEV)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) demo_out .pytest_cache .hypothesis
