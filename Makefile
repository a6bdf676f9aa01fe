# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: install and start the bot (reads .env)
run: $(STAMP)
	$(BIN)/python -m bot

## test: install and run the whole test suite (no credentials, no network)
test: $(STAMP)
	$(BIN)/ruff check bot handlers tests bench
	$(BIN)/mypy
	$(BIN)/cfn-lint infra/template.yaml
	$(BIN)/python -m pytest

## bench: speed and load figures reported in the README
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache

# --- AWS (SAM) ----------------------------------------------------------------
# `sam build` (infra/template.yaml, Metadata: BuildMethod: makefile) runs
# `make build-<FunctionLogicalId>` in a copy of the repo with ARTIFACTS_DIR set.
# Each function gets bot/ and handlers/ plus pyproject.toml's
# [project].dependencies as wheels for Lambda (arm64, CPython 3.12), so there
# is no requirements.txt to keep in step by hand.
LAMBDA_PYTHON_VERSION := 3.12
# The Lambda runtime's interpreter (same minor version: same bytecode), used only
# to precompile .pyc files, which spares every cold start compiling them. Found as
# python3.12 on PATH, else pyenv's newest 3.12; LAMBDA_PYTHON=/path overrides. The
# .pyc files are hash-based, so the same sources give the same bundle anywhere.
# Without such an interpreter the bundle has none and the build says so loudly.
LAMBDA_PYTHON ?= $(shell for py in python$(LAMBDA_PYTHON_VERSION) \
	"$$(pyenv root 2>/dev/null)/versions/$$(pyenv versions --bare 2>/dev/null | grep -E '^$(LAMBDA_PYTHON_VERSION)\.[0-9]+$$' | sort -V | tail -1)/bin/python"; do \
	"$$py" -c "import sys; print(sys.executable)" 2>/dev/null && break; done)
LAMBDA_PYTHON_CHECK = import sys; sys.exit(f"{sys.executable} is Python {sys.version_info.major}.{sys.version_info.minor}, not $(LAMBDA_PYTHON_VERSION)") if f"{sys.version_info.major}.{sys.version_info.minor}" != "$(LAMBDA_PYTHON_VERSION)" else None

# Prints [project].dependencies, leaving out the distributions named as arguments.
define LAMBDA_DEPS_PY
import re, sys, tomllib
norm = lambda name: re.sub(r"[-_.]+", "-", name).lower()
skip = {norm(name) for name in sys.argv[1:]}
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
print("\n".join(d for d in deps if norm(re.match(r"[A-Za-z0-9._-]+", d).group()) not in skip))
endef
export LAMBDA_DEPS_PY

# Copies the project's packages, without caches, into the directory given.
define LAMBDA_SOURCES_PY
import shutil, sys
for package in ("bot", "handlers"):
    shutil.copytree(package, f"{sys.argv[1]}/{package}", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
endef
export LAMBDA_SOURCES_PY

# $(call lambda_bundle,<distributions to leave out>)
define lambda_bundle
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)"; exit 1; }
	$(PYTHON) -c "$$LAMBDA_DEPS_PY" $(1) > "$(ARTIFACTS_DIR)/requirements.txt"
	PIP_ROOT_USER_ACTION=ignore $(PYTHON) -m pip install --quiet --disable-pip-version-check \
		--no-warn-conflicts --no-compile --upgrade --target "$(ARTIFACTS_DIR)" \
		--platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64 \
		--implementation cp --python-version $(LAMBDA_PYTHON_VERSION) --only-binary=:all: \
		-r "$(ARTIFACTS_DIR)/requirements.txt"
	rm -rf "$(ARTIFACTS_DIR)/requirements.txt" "$(ARTIFACTS_DIR)/bin"
	$(PYTHON) -c "$$LAMBDA_SOURCES_PY" "$(ARTIFACTS_DIR)"
	@if [ -n "$(LAMBDA_PYTHON)" ]; then \
		"$(LAMBDA_PYTHON)" -c '$(LAMBDA_PYTHON_CHECK)' && \
		echo "precompiling .pyc with $(LAMBDA_PYTHON)" && \
		"$(LAMBDA_PYTHON)" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$(ARTIFACTS_DIR)" >/dev/null; \
	else echo "WARNING: no Python $(LAMBDA_PYTHON_VERSION) found (python$(LAMBDA_PYTHON_VERSION), pyenv, LAMBDA_PYTHON):" \
		"bundle built WITHOUT .pyc files; each cold start compiles them"; fi
endef

.PHONY: build-IngressFunction build-WorkerFunction lint-infra

## build-IngressFunction: Lambda bundle for the ingress: everything but Pillow (it never touches an image; faster cold start)
build-IngressFunction:
	$(call lambda_bundle,Pillow)

## build-WorkerFunction: Lambda bundle for the worker: every dependency, with its own boto3 for Converse and GetFoundationModel
build-WorkerFunction:
	$(call lambda_bundle,)

## lint-infra: validate the SAM template offline (cfn-lint)
lint-infra: $(STAMP)
	$(BIN)/cfn-lint infra/template.yaml
