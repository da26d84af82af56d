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

.PHONY: help venv install test unit integration sanity demo bench chaos server changelog clean

help:
	@echo "make demo   - rotate keys against the local IAM-compatible server (does all set-up)"
	@echo "make test   - unit, integration and ansible-test sanity tests (does all set-up)"
	@echo "make chaos  - faults, kills at every step, concurrent runs on one user; checks that nothing is ever lost"
	@echo "make bench  - measure batch and loop runs for 1 to 5,000 users, many accounts, a fleet (writes docs/benchmarks.md)"
	@echo "make test-compat - the built tarball with ansible-core 2.18, 2.19, 2.20 and 2.21: the demo, managed-node modules"
	@echo "make server - start the local IAM-compatible server in the foreground"
	@echo "make docs   - the documentation site into .build/docs/html (docs-screenshots: pictures of it)"
	@echo "make lint   - ruff, mypy, ansible-lint (and ee-check: the execution-environment files)"
	@echo "make release - the Galaxy tarball into .build/release (release-check: install it alone, run the demo)"
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

integration: install chromium
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests/integration

# Headless Chromium renders the HTML compliance report in the integration tests and for the docs:
# Debian's package, installed only when missing (the machines run as root; otherwise install it
# yourself, or point CHROMIUM at another build).
.PHONY: chromium screenshots
CHROMIUM ?= chromium
export KEYWARDEN_CHROMIUM := $(CHROMIUM)

chromium:
	@command -v $(CHROMIUM) >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium package"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@$(CHROMIUM) --version

# docs/images/compliance-report.png, taken by the integration test that checks the HTML report.
screenshots: install chromium
	KEYWARDEN_SCREENSHOT_DIR=$(CURDIR)/docs/images $(BIN)/python -m pytest -q -p no:cacheprovider \
	  tests/integration/test_compliance_report.py -k html_report_in_chromium

$(SANITY_INSTALLED): requirements-dev.txt
	$(PYTHON) -m venv $(SANITY_VENV)
	$(SANITY_VENV)/bin/python -m pip install --quiet "$$(grep '^ansible-core==' requirements-dev.txt)"
	touch $@

sanity: $(SANITY_INSTALLED)
	tools/ansible-test-sanity.sh $(SANITY_VENV)

demo: install
	$(BIN)/python demo/run.py

# The long campaigns (make test runs short ones): 300 rotations with random faults; rotations
# killed at every step with SIGKILL, SIGTERM and SIGINT (5 rounds per step and signal); 2 and 4
# concurrent runs on one user, with and without lost create answers (50 rounds per scenario).
chaos: install
	KEYWARDEN_CHAOS_RUNS=$${KEYWARDEN_CHAOS_RUNS:-300} $(BIN)/python -m pytest -q -s -p no:cacheprovider \
	  tests/unit/chaos/test_campaign.py
	KEYWARDEN_KILL_ROUNDS=$${KEYWARDEN_KILL_ROUNDS:-5} $(BIN)/python -m pytest -q -s -p no:cacheprovider \
	  tests/integration/test_kill_campaign.py
	KEYWARDEN_CONCURRENCY_ROUNDS=$${KEYWARDEN_CONCURRENCY_ROUNDS:-50} $(BIN)/python -m pytest -q -s -p no:cacheprovider \
	  tests/unit/chaos/test_concurrency.py

# Measurements, not tests: rotation, no-op and info for 1 to 5,000 users at 50 ms latency, at 32 and 128
# workers, loops next to the floors of Ansible itself, 20 accounts through forks, a 100-host fleet.
bench: $(INSTALLED)
	$(BIN)/python tests/bench/bench.py --latency-ms 50 --output docs/benchmarks.md

.PHONY: test-compat
# The built tarball with each supported ansible-core (2.18-2.21) this machine has a Python for,
# each in its own venv under .build/compat: the demo, then the managed-node modules on the oldest
# target Python. COMPAT_STRICT=1 fails when a release had to be skipped.
test-compat: install
	tools/test-compat.sh $(TARBALL) $(VENV)

server: $(INSTALLED)
	$(BIN)/python tests/fakeiam/server.py --seed tests/fakeiam/seeds/demo.json --port 8443

# Lint the fragments and regenerate CHANGELOG.rst as the changelog of galaxy.yml's version (a
# preview until that version is released with changelog-release). See tools/changelog.sh.
changelog: $(INSTALLED)
	tools/changelog.sh $(BIN)

# Cutting a release: record galaxy.yml's version in changelogs/changelog.yaml (this consumes
# the fragments), then `make release`.
changelog-release: $(INSTALLED)
	$(BIN)/antsibull-changelog release --version $(VERSION)

# --- Documentation site, lint, execution environment, release artifact -----------------------
# Each tool set has a pinned virtual environment of its own under .build, apart from the test
# tools in .venv: requirements-docs.txt (antsibull-docs, Sphinx) and requirements-lint.txt
# (ruff, mypy, ansible-lint, ansible-builder).
.PHONY: docs docs-screenshots lint ee-check release release-check changelog-release
DOCS_VENV := $(BUILD)/docs-venv
DOCS_INSTALLED := $(DOCS_VENV)/.requirements-installed
LINT_VENV := $(BUILD)/lint-venv
LINT_INSTALLED := $(LINT_VENV)/.requirements-installed
RELEASE_DIR := $(BUILD)/release
RELEASE_TARBALL := $(RELEASE_DIR)/keywarden-iam-$(VERSION).tar.gz

$(DOCS_INSTALLED): requirements-docs.txt
	$(PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python -m pip install --quiet -r requirements-docs.txt
	touch $@

$(LINT_INSTALLED): requirements-lint.txt
	$(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/python -m pip install --quiet -r requirements-lint.txt
	touch $@

# The documentation site, offline, into .build/docs/html: a page for every module, role and
# plugin of the installed tarball, and the guides of docs/docsite/rst.
docs: install $(DOCS_INSTALLED)
	tools/docs-build.sh $(DOCS_VENV)

# The fleet rotation guide's timeline, drawn from a real zero-downtime run's data.
.PHONY: docs-fleet-timeline
docs-fleet-timeline: install
	KEYWARDEN_FLEET_RECORD=$(CURDIR)/$(BUILD)/fleet-record.json $(BIN)/python -m pytest -q -p no:cacheprovider \
	  tests/integration/test_fleet_zero_downtime.py -k zero_failed_requests
	$(BIN)/python tools/fleet_timeline.py $(BUILD)/fleet-record.json docs/docsite/rst/fleet-rotation-timeline.svg

# Pictures of the built site (front page, access_key module page) into docs/images/.
docs-screenshots: docs chromium
	tools/docs-screenshots.sh $(BUILD)/docs/html $(CHROMIUM)

# ruff + mypy on plugins/, ansible-lint (production profile) on roles and example playbooks.
lint: install $(LINT_INSTALLED)
	tools/lint.sh $(LINT_VENV)

# meta/execution-environment.yml (no dependency beyond ansible-core) and the ansible-builder example.
ee-check: install $(LINT_INSTALLED)
	tools/ee-check.sh $(LINT_VENV)

# The Galaxy artifact, with an up-to-date CHANGELOG.rst, into .build/release.
release: changelog
	rm -rf $(RELEASE_DIR)
	$(BIN)/ansible-galaxy collection build --output-path $(RELEASE_DIR) --force
	@echo "release artifact: $(RELEASE_TARBALL)"

# Install that artifact alone into an empty collections path and run the demo from it.
release-check: release
	tools/release-check.sh $(RELEASE_TARBALL) $(VENV)

clean:
	rm -rf $(VENV) $(BUILD)
