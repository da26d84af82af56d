#!/usr/bin/env bash
# Run `ansible-test sanity` with no ignore files. ansible-test needs the collection at
# .../ansible_collections/keywarden/iam, so this copies the files git knows about into a
# throw-away tree of that shape instead of asking anyone to move the checkout.
#
# Usage: tools/ansible-test-sanity.sh SANITY_VENV [ansible-test options...]
# SANITY_VENV is a virtual environment holding ansible-core only; ansible-test installs the
# tool versions it pins (pylint, yamllint, ...) into it with --requirements. It is kept apart
# from the project's .venv so those pins never clash with the test tools.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$(cd "$1" && pwd)
shift
tree=$(mktemp -d "${TMPDIR:-/tmp}/keywarden-sanity-XXXXXX")
trap 'rm -rf "$tree"' EXIT
dest="$tree/ansible_collections/keywarden/iam"
mkdir -p "$dest"
cd "$root"
git ls-files --cached --others --exclude-standard -z | xargs -0 cp --parents -t "$dest"
cd "$dest"
# ansible-test keeps its per-test virtual environments and downloads under ~/.ansible/test; a
# project-local HOME keeps them in .build. It bootstraps pip into each of them with a script it
# downloads from a host this network cannot reach, so seed its cache with our stand-in.
export HOME="$root/.build/ansible-test-home"
pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',/\1/p" \
  "$("$venv/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py")
mkdir -p "$HOME/.ansible/test/cache"
cp "$root/tools/get_pip_standin.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
PATH="$venv/bin:$PATH" "$venv/bin/ansible-test" sanity --requirements --color no \
  --python "$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" "$@"
