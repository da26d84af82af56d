#!/usr/bin/env bash
# make release-check: the release tarball, installed on its own, must work.
#
# Usage: tools/release-check.sh TARBALL VENV
#
# 1. What the tarball holds: the collection, its docs and changelog; no tests, demo, CI, build
#    or virtual environment files.
# 2. Install it into a fresh, empty collections path.
# 3. Run the demo (demo/run.py: the local IAM-compatible server, three ansible-playbook runs) from
#    a copy of demo/ and tests/fakeiam/ outside the checkout, with ANSIBLE_COLLECTIONS_PATH naming
#    only that fresh path and no scan of sys.path, so the checkout's plugins/ cannot be reached.
# 4. Prove which copy ran: ansible-doc must find every module of the tarball in that path.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tarball=$(realpath "$1")
venv=$(cd "$2" && pwd)
check="$root/.build/release-check"
rm -rf "$check"
mkdir -p "$check/collections" "$check/src/tests"

echo "== what $(basename "$tarball") holds"
tar -tzf "$tarball" | sed 's#^\./##' | sort > "$check/contents.txt"
bad=$(grep -E '^(tests/(unit|integration|fakeiam|bench|output)/|demo/|\.ci/|\.git/|\.venv/|\.build/|\.pytest_cache/|\.hypothesis/|\.mypy_cache/|\.ruff_cache/)|(^|/)__pycache__/|\.pyc$|^(conftest\.py|Makefile|requirements-dev\.txt|pyproject\.toml)$' \
  "$check/contents.txt" || true)
if [ -n "$bad" ]; then
  echo "the release tarball holds files that do not belong in it:" >&2
  echo "$bad" | head -20 >&2
  exit 1
fi
for required in MANIFEST.json FILES.json README.md COPYING meta/runtime.yml meta/execution-environment.yml \
                docs/docsite/extra-docs.yml docs/docsite/links.yml; do
  grep -qx "$required" "$check/contents.txt" || { echo "the release tarball lacks $required" >&2; exit 1; }
done
[ ! -e "$root/CHANGELOG.rst" ] || grep -qx CHANGELOG.rst "$check/contents.txt" \
  || { echo "the release tarball lacks CHANGELOG.rst" >&2; exit 1; }
echo "$(wc -l < "$check/contents.txt") entries; no test, demo, CI or build files"

echo "== install it into an empty collections path"
export ANSIBLE_COLLECTIONS_PATH="$check/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
unset PYTHONPATH ANSIBLE_COLLECTIONS_PATHS ANSIBLE_CONFIG 2>/dev/null || true
cd "$check"   # no ansible.cfg of the checkout, no playbook-adjacent collections
"$venv/bin/ansible-galaxy" collection install "$tarball" -p "$check/collections" >/dev/null
"$venv/bin/ansible-galaxy" collection list keywarden.iam

echo "== the demo, from outside the checkout, against the installed artifact only"
cp -r "$root/demo" "$check/src/demo"
cp -r "$root/tests/fakeiam" "$check/src/tests/fakeiam"
find "$check/src" -name __pycache__ -prune -exec rm -rf {} +
"$venv/bin/python" "$check/src/demo/run.py"

echo "== which copy of the collection ran"
installed="$check/collections/ansible_collections/keywarden/iam"
modules=$(cd "$installed/plugins/modules" && ls -- *.py | sed 's/\.py$//')
for module in $modules; do
  "$venv/bin/ansible-doc" --json "keywarden.iam.$module" | "$venv/bin/python" -c '
import json, sys
doc = json.load(sys.stdin)
(name, entry), = doc.items()
where = entry["doc"]["filename"]
if not where.startswith(sys.argv[1] + "/"):
    sys.exit(f"{name} came from {where}, not from the installed release")
print(f"{name}: {where}")' "$installed"
done
echo "release check passed: $(basename "$tarball")"
