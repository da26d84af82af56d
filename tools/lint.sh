#!/usr/bin/env bash
# make lint: ruff and mypy on plugins/ (pyproject.toml), ansible-lint with the production profile
# on the roles and example playbooks (.ansible-lint). Runs all three, prints every finding, and
# fails if any of them found something.
#
# Usage: tools/lint.sh LINT_VENV
# LINT_VENV holds the pinned tools of requirements-lint.txt. ansible-lint resolves the
# collection's modules through $ANSIBLE_COLLECTIONS_PATH (make install puts the built tarball
# there), never through Galaxy (offline: true).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$(cd "$1" && pwd)
cd "$root"
export PATH="$venv/bin:$PATH"
status=0

echo "== ruff check plugins/"
ruff check --no-cache --output-format concise plugins/ || status=1

echo "== mypy plugins/"
# Collection code imports itself as ansible_collections.keywarden.iam...: give mypy that package
# through a throw-away tree holding the checkout under that name, and report paths as plugins/...
tree="$root/.build/lint"
mkdir -p "$tree/ansible_collections/keywarden"
ln -sfn "$root" "$tree/ansible_collections/keywarden/iam"
MYPYPATH="$tree" mypy -p ansible_collections.keywarden.iam.plugins 2>&1 \
  | sed "s#^\.build/lint/ansible_collections/keywarden/iam/##; s#^$tree/ansible_collections/keywarden/iam/##"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== ansible-lint (production profile)"
XDG_CACHE_HOME="$tree/cache" ANSIBLE_HOME="$tree/ansible-home" \
  ansible-lint --nocolor -f pep8 || status=1

exit $status
