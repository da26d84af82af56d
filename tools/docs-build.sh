#!/usr/bin/env bash
# make docs: the collection's documentation site, built offline into .build/docs/html.
#
# Usage: tools/docs-build.sh DOCS_VENV
# DOCS_VENV holds antsibull-docs, Sphinx and ansible-core (requirements-docs.txt). The collection
# must be installed in $ANSIBLE_COLLECTIONS_PATH (make install, from the built tarball): the pages
# are generated from what is installed, so whatever modules, roles and plugins the tarball holds get
# a page, with no list to maintain here.
#
# 1. antsibull-docs lint-collection-docs: plugin and role docs (schema, markup, references) and
#    the extra docs in docs/docsite (extra-docs.yml, links.yml, rst/*.rst).
# 2. antsibull-docs sphinx-init: a fresh Sphinx project in .build/docs/sphinx, made offline:
#    intersphinx reads a local inventory of docs.ansible.com labels (tools/docs_offline_inventory.py)
#    instead of downloading any.
# 3. antsibull-docs collection: the RST pages (every module/role/plugin page, the collection
#    index, the guides from docs/docsite/rst).
# 4. sphinx-build -W: any warning (a broken reference, bad markup) fails the build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$(cd "$1" && pwd)
export PATH="$venv/bin:$PATH"
: "${ANSIBLE_COLLECTIONS_PATH:?set it to the collections path keywarden.iam is installed in}"
installed="${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/keywarden/iam"
[ -f "$installed/MANIFEST.json" ] || { echo "keywarden.iam is not installed in $installed (make install)" >&2; exit 1; }

out="$root/.build/docs"
project="$out/sphinx"
rm -rf "$project" "$out/html" "$out/doctrees"
# antsibull-docs wants its destination directories writable by their owner only
mkdir -p "$out"
mkdir -m 700 "$project"

# Work on a copy of the installed collection outside the checkout: antsibull-docs' linter
# copies a collection that lies inside a git work tree with `git ls-files`, which skips the
# git-ignored .build/, so it would find no plugins and report every reference to them as broken.
tree=$(mktemp -d "${TMPDIR:-/tmp}/keywarden-docs-XXXXXX")
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/ansible_collections/keywarden"
cp -r "$installed" "$tree/ansible_collections/keywarden/iam"
installed="$tree/ansible_collections/keywarden/iam"
export ANSIBLE_COLLECTIONS_PATH="$tree"

echo "== lint the collection's docs"
antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
  --validate-collection-refs self --disallow-unknown-collection-refs "$installed"

echo "== generate the Sphinx project"
antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error \
  --dest-dir "$project" \
  --project keywarden.iam --copyright "keywarden.iam contributors" \
  --title "keywarden.iam" --html-short-title "keywarden.iam" \
  keywarden.iam >/dev/null
python "$root/tools/docs_offline_inventory.py" "$project/ansible_devel.inv"
cat >> "$project/conf.py" <<'CONF'

# --- added by tools/docs-build.sh: build offline ---
# Only the local inventory of docs.ansible.com labels; nothing is downloaded.
import os.path  # noqa: E402
intersphinx_mapping = {
    'ansible_devel': ('https://docs.ansible.com/projects/ansible/devel/',
                      os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ansible_devel.inv')),
}
intersphinx_timeout = 1
html_theme_options = {
    'topbar_links': {
        'Galaxy': 'https://galaxy.ansible.com/ui/repo/published/keywarden/iam/',
        'GitHub': 'https://github.com/keywarden/iam',
        'Ansible documentation': 'https://docs.ansible.com/',
    },
    'show_rtd_ethical_ads': False,
    'display_version': False,
}
CONF

echo "== generate the collection's pages"
chmod 700 "$project/rst"
antsibull-docs --config-file "$project/antsibull-docs.cfg" collection \
  --use-current --squash-hierarchy --fail-on-error --cleanup everything \
  --dest-dir "$project/rst" keywarden.iam >/dev/null
# The squashed index is titled with the collection name title-cased ("Keywarden.Iam"); a
# collection's name is lower case everywhere else, so use it as written.
sed -i 's/^Keywarden\.Iam$/keywarden.iam/' "$project/rst/index.rst"

# Pictures the guides show (docs/docsite/rst/*.svg, *.png) sit beside them; antsibull-docs copies
# only the RST files.
find "$root/docs/docsite/rst" -maxdepth 1 \( -name '*.svg' -o -name '*.png' \) -exec cp {} "$project/rst/docsite/" \;

echo "== build the HTML site"
sphinx-build -q -b html -W --keep-going -c "$project" -d "$out/doctrees" "$project/rst" "$out/html"
pages=$(find "$out/html" -maxdepth 1 -name '*.html' | wc -l)
echo "documentation site: $out/html/index.html ($pages pages)"
