# `make demo` and `make test` work on a fresh clone: they create .venv/ and install the project into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TORCH_VERSION ?= 2.13.0
MMCV_VERSION ?= 2.1.0
MAX_JOBS ?= 2

.PHONY: install demo test bench lint clean

install: $(STAMP)

# torch first (the local CPU wheel here; a bare `torch` requirement would pull the CUDA build), then the project
# (so opencv-python is there when mmcv's setup.py picks its OpenCV requirement: otherwise it asks for
# opencv-python-headless and two cv2 packages fight), then mmcv built from source with its compiled ops (no wheel
# exists for this torch; 10-17 min on 2 cores, then cached by pip), then the train extra. The last step fails
# loudly if mmcv.ops lacks its compiled ops.
$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==$(TORCH_VERSION) setuptools==80.9.0 wheel
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -c "import mmcv.ops" 2>/dev/null || { $(PY) -m pip uninstall --quiet -y mmcv; \
		MMCV_WITH_OPS=1 MAX_JOBS=$(MAX_JOBS) $(PY) -m pip install --no-build-isolation mmcv==$(MMCV_VERSION); }
	$(PY) -m pip install --quiet -e '.[train,dev]'
	$(PY) -c "import torch, mmcv.ops; mmcv.ops.nms(torch.rand(3, 4), torch.rand(3), 0.5); print('mmcv ops: ok')"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/aodraw demo --out demo_out

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) tools/benchmarks/bench_detection.py
	$(PY) tools/benchmarks/bench_luss.py
	$(PY) tools/benchmarks/bench_raw.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) demo_out .pytest_cache .hypothesis
