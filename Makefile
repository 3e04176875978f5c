# jupyter-mlops: one command per job. `make demo` and `make test` set everything up on a fresh
# machine (python3 >= 3.10, node >= 18 with npm); `.ci/run` adds the system packages first.

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# jlpm, jupyter-builder and the package's own scripts come from the virtualenv
export PATH := $(abspath $(VENV))/bin:$(PATH)
# Playwright drives Debian's chromium; it must never download a browser of its own
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

LABEXT_SOURCES := labextension/package.json labextension/yarn.lock labextension/tsconfig.json \
	$(wildcard labextension/src/*.ts labextension/src/*/*.ts labextension/src/*/*.tsx \
	labextension/style/*)
BUILT_LABEXT := jupyter_mlops/labextension
EXTRAS := test,dask,sweeps,release,lab,team,loop,trust,flavors,catboost,platforms

.PHONY: install side-venvs lint test demo bench dist clean distclean

install: $(VENV)/.installed

# Libraries whose pins clash with ours get a virtualenv each, built from their extra in
# pyproject.toml, for the one test module that runs them in a subprocess: Airflow loads an
# exported DAG in a DagBag (.venv-airflow), KServe's SDK models check a deployed
# InferenceService (.venv-kserve).
SIDE_VENVS := .venv-airflow .venv-kserve
side-venvs: $(SIDE_VENVS:%=%/.installed)

.venv-%/.installed: pyproject.toml scripts/extra_requirements.py
	test -x .venv-$*/bin/python || $(PYTHON) -m venv .venv-$*
	.venv-$*/bin/python -m pip --disable-pip-version-check install --quiet --upgrade pip
	.venv-$*/bin/python -m pip --disable-pip-version-check install --quiet \
		$$($(PYTHON) scripts/extra_requirements.py $*)
	touch $@

# The editable install runs the frontend build (hatch-jupyter-builder: jlpm install + build) and
# installs the server config and the built labextension into the venv's share/ and etc/.
# The build tools are installed first so the package builds without build isolation.
# `make demo` needs only the extras the example project uses (DEMO_EXTRAS), which keeps a first
# demo on a fresh machine quick; `make test` then adds the rest.
DEMO_EXTRAS := release,lab,loop,trust
define install_with
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet setuptools wheel editables hatchling hatch-jupyter-builder "jupyterlab>=4.4,<5"
	rm -rf $(BUILT_LABEXT) $(VENV)/share/jupyter/labextensions/jupyter-mlops
	$(PIP) install --quiet --no-build-isolation -e ".[$(1)]"
	$(VENV)/bin/jupyter server extension list 2>&1 | grep -q "jupyter_mlops.*enabled"
	$(VENV)/bin/jupyter labextension list 2>&1 | grep -q "jupyter-mlops.*enabled.*OK"
endef

$(VENV)/.installed: pyproject.toml $(LABEXT_SOURCES)
	$(call install_with,$(EXTRAS))
	touch $@ $(VENV)/.installed-demo

$(VENV)/.installed-demo: pyproject.toml $(LABEXT_SOURCES)
	$(call install_with,$(DEMO_EXTRAS))
	touch $@

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) scripts/check_auth.py
	$(PY) scripts/gen_contract.py --check
	$(VENV)/bin/lint-imports --no-logo --no-cache
	$(VENV)/bin/mypy  # strict, on the files [tool.mypy] in pyproject.toml lists
	cd labextension && jlpm lint:check

# one pytest worker per core: most tests wait on kernels, servers and subprocesses, and each
# worker starts its own PostgreSQL and `mlflow server` for the team-mode tests
test: install side-venvs lint
	cd labextension && jlpm test
	$(PY) -m pytest -n auto --dist worksteal

# a full install serves the demo too
DEMO_INSTALL := $(if $(wildcard $(VENV)/.installed),$(VENV)/.installed,$(VENV)/.installed-demo)
demo: $(DEMO_INSTALL)
	$(PY) -m jupyter_mlops.demo

bench: install
	$(PIP) install --quiet --no-build-isolation -e ".[$(EXTRAS),bench]"  # dvc: a benchmark baseline
	@failed=""; for script in $(wildcard benchmarks/bench_*.py); do \
		echo "== $$script"; $(PY) $$script --quick || failed="$$failed $$script"; done; \
		if [ -n "$$failed" ]; then echo "missed a target or failed:$$failed"; exit 1; fi

# sdist and wheel in dist/, with a production build of the labextension (`pip install` of the
# wheel is the whole install: sidebar, server extension, CLI, papermill engine)
dist: install
	rm -rf dist $(BUILT_LABEXT)
	$(PY) -m hatchling build -d dist

clean:
	rm -rf build dist $(BUILT_LABEXT) labextension/lib labextension/tsconfig.tsbuildinfo \
		test-output .pytest_cache

distclean: clean
	rm -rf $(VENV) $(SIDE_VENVS) labextension/node_modules labextension/.yarn
