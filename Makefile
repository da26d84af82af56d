# keywarden.iam: everything runs from a project-local virtual environment (.venv) and a
# project-local collections path (.build/collections), so a fresh machine needs only python3
# and make. Every target that runs the collection first builds it with ansible-galaxy and
# installs it from the tarball, so the packaging is exercised every time.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUILD := .build
COLLECTIONS := $(BUILD)/collections
DIST := $(BUILD)/dist
INSTALLED := $(VENV)/.requirements-installed
# ansible-test sanity gets a venv of its own holding only ansible-core: it installs the tool
# versions it pins (pylint, yamllint, ...) there, apart from the test tools in .venv.
SANITY_VENV := $(BUILD)/sanity-venv
SANITY_INSTALLED := $(SANITY_VENV)/.requirements-installed
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := $(DIST)/keywarden-iam-$(VERSION).tar.gz
PYTEST_WORKERS ?= 2

export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLLECTIONS)
# The vendor SDK only has to be importable by the tests and the local server.
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv install test unit integration sanity demo server changelog clean

help:
	@echo "make demo   - rotate keys against the local IAM-compatible server (does all set-up)"
	@echo "make test   - unit, integration and ansible-test sanity tests (does all set-up)"
	@echo "make server - start the local IAM-compatible server in the foreground"
	@echo "make clean  - remove .venv and .build"

venv: $(INSTALLED)

$(INSTALLED): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# Build the collection and install it from the tarball into the project-local path.
install: $(INSTALLED)
	rm -rf $(DIST) $(COLLECTIONS)/ansible_collections/keywarden/iam
	$(BIN)/ansible-galaxy collection build --output-path $(DIST) --force >/dev/null
	$(BIN)/ansible-galaxy collection install $(TARBALL) -p $(COLLECTIONS) --force >/dev/null
	@echo "installed keywarden.iam $(VERSION) into $(COLLECTIONS)"

test: unit integration sanity

unit: $(INSTALLED)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests/unit

integration: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests/integration

$(SANITY_INSTALLED): requirements-dev.txt
	$(PYTHON) -m venv $(SANITY_VENV)
	$(SANITY_VENV)/bin/python -m pip install --quiet "$$(grep '^ansible-core==' requirements-dev.txt)"
	touch $@

sanity: $(SANITY_INSTALLED)
	tools/ansible-test-sanity.sh $(SANITY_VENV)

demo: install
	$(BIN)/python demo/run.py

server: $(INSTALLED)
	$(BIN)/python tests/fakeiam/server.py --seed tests/fakeiam/seeds/demo.json --port 8443

changelog: $(INSTALLED)
	$(BIN)/antsibull-changelog lint

clean:
	rm -rf $(VENV) $(BUILD)
