#!/usr/bin/env bash
# make changelog: lint the changelog fragments and regenerate CHANGELOG.rst with antsibull-changelog.
#
# Usage: tools/changelog.sh VENV_BIN        (a bin directory with antsibull-changelog and ansible-doc)
#
# CHANGELOG.rst always reads as the changelog of the version in galaxy.yml:
# - if changelogs/changelog.yaml already records that version (it was released with
#   `make changelog-release`), CHANGELOG.rst is generated from changelog.yaml alone;
# - otherwise CHANGELOG.rst previews that version's release: `antsibull-changelog release` runs
#   in a throw-away copy of the collection, so changelog.yaml and the fragments stay as they are
#   and only CHANGELOG.rst changes. The release date lives in changelog.yaml only, so the preview
#   claims none.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "$1" && pwd)
export PATH="$bin:$PATH"
cd "$root"
antsibull-changelog lint
version=$(sed -n 's/^version: *//p' galaxy.yml)

tree=$(mktemp -d "${TMPDIR:-/tmp}/keywarden-changelog-XXXXXX")
trap 'rm -rf "$tree"' EXIT
copy="$tree/ansible_collections/keywarden/iam"
mkdir -p "$copy"
# antsibull-changelog lists new modules, plugins and roles through ansible-doc: it needs the
# collection itself, under ansible_collections/keywarden/iam, and nothing else on the path.
for part in galaxy.yml changelogs meta plugins roles; do
  [ -e "$part" ] && cp -r "$part" "$copy/"
done
cd "$copy"
export ANSIBLE_COLLECTIONS_PATH="$tree" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
if "$bin/python" - "$version" <<'PY'
import sys, yaml
releases = (yaml.safe_load(open("changelogs/changelog.yaml")) or {}).get("releases") or {}
sys.exit(0 if sys.argv[1] in releases else 1)
PY
then
  antsibull-changelog generate
else
  antsibull-changelog release --version "$version" 2>&1 | grep -v "no release_summary section" || true
fi
test -s CHANGELOG.rst
if cmp -s CHANGELOG.rst "$root/CHANGELOG.rst"; then
  echo "CHANGELOG.rst is up to date (version $version)"
else
  cp CHANGELOG.rst "$root/CHANGELOG.rst"
  echo "CHANGELOG.rst regenerated (version $version)"
fi
