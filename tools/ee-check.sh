#!/usr/bin/env bash
# make ee-check: the execution-environment files, without a container engine.
# - meta/execution-environment.yml: ansible-builder introspects the installed collection and
#   must find no Python and no system dependency (the collection needs only ansible-core).
# - docs/examples/execution-environment.yml: ansible-builder creates its build context (the
#   Containerfile), which validates the definition against the builder's schema.
#
# Usage: tools/ee-check.sh LINT_VENV   (with keywarden.iam installed in $ANSIBLE_COLLECTIONS_PATH)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$(cd "$1" && pwd)
export PATH="$venv/bin:$PATH"
collections="${ANSIBLE_COLLECTIONS_PATH%%:*}"
out="$root/.build/ee"
rm -rf "$out" && mkdir -p "$out"

echo "== ansible-builder introspect $collections"
ansible-builder introspect --sanitize "$collections" > "$out/introspect.yml"
cat "$out/introspect.yml"
python - "$out/introspect.yml" <<'PY'
import sys, yaml
data = yaml.safe_load(open(sys.argv[1])) or {}
found = {kind: data.get(kind) for kind in ("python", "system") if data.get(kind)}
if found:
    sys.exit(f"keywarden.iam must need nothing beyond ansible-core, but declares {found}")
print("ok: no Python and no system dependencies beyond ansible-core")
PY

echo "== ansible-builder create -f docs/examples/execution-environment.yml"
ansible-builder create -f "$root/docs/examples/execution-environment.yml" --context "$out/context" \
  --output-filename Containerfile -v 1
test -s "$out/context/Containerfile"
echo "ok: build context in $out/context"
