#!/usr/bin/env bash
# make test-compat: the built tarball with every supported ansible-core release that this machine
# can run, each in a throw-away virtual environment of its own.
#
# Usage: tools/test-compat.sh TARBALL PROJECT_VENV [SERIES...]
#   TARBALL       the collection tarball (make install builds it into .build/dist)
#   PROJECT_VENV  the project's .venv: it runs the local IAM-compatible server (which needs the
#                 vendor SDK and cryptography); ansible-core comes from the series' own venv
#   SERIES        ansible-core release series to try; default: every supported one
#
# For each series (.build/compat/<series>/):
# 1. Find a controller Python that the series supports (on PATH, else pyenv's, else uv's; nothing
#    is downloaded). ansible-core 2.18 and 2.19 need Python 3.11+, 2.20 and 2.21 need 3.12+.
#    Without one, the series is reported as skipped.
# 2. A venv holding only the series' latest ansible-core (kept between runs, keyed by the series
#    and the Python; COMPAT_FRESH=1 makes it anew).
# 3. Install the tarball alone into an empty collections path; check that it holds COPYING.
# 4. Run the demo (demo/run.py: six ansible-playbook runs against the local server over TLS) from
#    a copy outside the checkout, with that venv's ansible-playbook and only the installed
#    collection reachable (as tools/release-check.sh does).
# 5. Run access_key_info and access_key_compliance as modules (a task environment keeps them off
#    the in-process path they take on localhost), with the oldest target Python the series
#    supports (3.8 for 2.18/2.19, 3.9 for 2.20/2.21) when this machine has it, else with the
#    controller's Python.
#
# Exit status: 1 if a series failed; 0 otherwise. A skipped series fails the run only with
# COMPAT_STRICT=1 (for CI on a machine known to have every Python).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tarball=$(realpath "$1")
project_venv=$(cd "$2" && pwd)
shift 2
supported=(2.18 2.19 2.20 2.21)
series_list=("$@")
[ ${#series_list[@]} -gt 0 ] || series_list=("${supported[@]}")
for series in "${series_list[@]}"; do
  case " ${supported[*]} " in
    *" $series "*) ;;
    *) echo "ansible-core $series is not a supported series (${supported[*]})" >&2; exit 2 ;;
  esac
done

# Controller Pythons each series accepts, preferred first (ansible-core's Requires-Python), and
# the oldest target Python it supports (ansible.module_utils.basic._PY_MIN).
controller_pythons() {
  case "$1" in
    2.18|2.19) echo "3.11 3.12 3.13" ;;
    2.20|2.21) echo "3.12 3.13 3.14" ;;
  esac
}
oldest_target_python() {
  case "$1" in
    2.18|2.19) echo 3.8 ;;
    *) echo 3.9 ;;
  esac
}

# The path of a working python X.Y on this machine, or nothing: on PATH, else pyenv's (a pyenv
# shim on PATH may name a version that is not selected, so each candidate must run), else uv's.
# Nothing is downloaded: uv is told not to fetch a Python.
find_python() {
  local want=$1 candidate
  {
    command -v "python$want" 2>/dev/null || true
    printf '%s\n' "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$want".*/bin/"python$want" | sort -rV
    if command -v uv >/dev/null 2>&1; then UV_PYTHON_DOWNLOADS=never uv python find "$want" 2>/dev/null || true; fi
  } | while read -r candidate; do
    if [ -n "$candidate" ] && "$candidate" -c 'import sys, venv' >/dev/null 2>&1; then
      "$candidate" -c 'import sys; print(sys.executable)'
      break
    fi
  done || true
  return 0
}

compat="$root/.build/compat"
mkdir -p "$compat"
declare -A outcome seconds_taken core_version

echo "== $(basename "$tarball") holds COPYING"
# (No grep -q on a pipe: under pipefail, the writer's SIGPIPE would fail the check.)
entry=$(tar -tzf "$tarball" | grep -E '^(\./)?COPYING$' || true)
[ -n "$entry" ] || { echo "the tarball lacks COPYING (the GPL-3.0-or-later text every file header points to)" >&2; exit 1; }
cmp -s <(tar -xzOf "$tarball" "$entry") "$root/COPYING" \
  || { echo "the tarball's COPYING differs from the repository's" >&2; exit 1; }

for series in "${series_list[@]}"; do
  start=$SECONDS
  echo
  echo "=================== ansible-core $series ==================="
  python=""
  for want in $(controller_pythons "$series"); do
    python=$(find_python "$want")
    [ -z "$python" ] || break
  done
  if [ -z "$python" ]; then
    echo "SKIPPED: no Python $(controller_pythons "$series" | tr ' ' '/') on this machine for ansible-core $series"
    outcome[$series]=skipped; seconds_taken[$series]=0; core_version[$series]="-"
    continue
  fi
  work="$compat/$series"
  venv="$work/venv"
  stamp="$venv/.keywarden-compat"
  want_stamp="ansible-core~=$series.0 on $("$python" -c 'import sys; print(sys.version.split()[0])')"
  if [ "${COMPAT_FRESH:-0}" = 1 ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want_stamp" ]; then
    echo "== a venv with $want_stamp ($python)"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "ansible-core~=$series.0"
    echo "$want_stamp" > "$stamp"
  else
    echo "== reusing the venv with $want_stamp"
  fi
  core_version[$series]=$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')
  case "${core_version[$series]}" in
    "$series".*) ;;
    *) echo "the venv holds ansible-core ${core_version[$series]}, not $series" >&2
       outcome[$series]=failed; seconds_taken[$series]=$((SECONDS - start)); continue ;;
  esac

  target_python=$(find_python "$(oldest_target_python "$series")")
  [ -n "$target_python" ] || target_python="$venv/bin/python"

  # Everything else lives in a fresh directory: the installed collection, the copied demo.
  check="$work/run"
  rm -rf "$check"
  mkdir -p "$check/collections" "$check/src/tests"
  cp -r "$root/demo" "$check/src/demo"
  cp -r "$root/tests/fakeiam" "$check/src/tests/fakeiam"
  find "$check/src" -name __pycache__ -prune -exec rm -rf {} +

  if (
    set -euo pipefail
    export ANSIBLE_COLLECTIONS_PATH="$check/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
    export ANSIBLE_HOME="$check/ansible-home" ANSIBLE_NOCOLOR=1
    unset PYTHONPATH ANSIBLE_COLLECTIONS_PATHS ANSIBLE_CONFIG 2>/dev/null || true
    cd "$check"   # no ansible.cfg of the checkout, no playbook-adjacent collections
    echo "== install the tarball with ansible-galaxy ${core_version[$series]}"
    "$venv/bin/ansible-galaxy" collection install "$tarball" -p "$check/collections" >/dev/null
    "$venv/bin/ansible-galaxy" collection list keywarden.iam
    installed="$check/collections/ansible_collections/keywarden/iam"
    "$venv/bin/ansible-doc" --json keywarden.iam.access_key_info | "$venv/bin/python" -c '
import json, sys
(name, entry), = json.load(sys.stdin).items()
where = entry["doc"]["filename"]
if not where.startswith(sys.argv[1] + "/"):
    sys.exit(f"{name} came from {where}, not from the installed tarball")' "$installed"

    echo "== the demo with ansible-core ${core_version[$series]} (controller $("$venv/bin/python" -V))"
    echo "== then the managed-node modules with $("$target_python" -V 2>&1) as the target's Python"
    # The project's Python runs the server; the series' venv runs every ansible command.
    "$project_venv/bin/python" - "$check/src" "$venv/bin" "$target_python" <<'PY'
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

src, ansible_bin, target_python = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
sys.path.insert(0, str(src))
spec = importlib.util.spec_from_file_location("compat_demo", src / "demo" / "run.py")
demo = importlib.util.module_from_spec(spec)
spec.loader.exec_module(demo)
demo.BIN = ansible_bin  # ansible-playbook and ansible-vault of the series under test
demo.main()

from tests.fakeiam.harness import SEEDS, FakeIam  # noqa: E402  (put on sys.path by demo/run.py)

work = src / ".build" / "managed-node"
work.mkdir(parents=True)
playbook = work / "managed-node.yml"
playbook.write_text("""---
- name: The modules that run on the managed node, with its Python
  hosts: localhost
  gather_facts: false
  # On localhost, access_key_info and access_key_compliance run in-process on the controller;
  # any environment for the task makes them run as modules, with the target's Python.
  environment:
    KEYWARDEN_COMPAT_MODULE_PATH: "1"
  module_defaults:
    group/keywarden.iam.iam:
      iam_endpoint: "{{ compat_url }}"
      ca_path: "{{ compat_ca }}"
      access_key: "{{ compat_ak }}"
      secret_key: "{{ compat_sk }}"
  tasks:
    - name: Learn the target's Python
      ansible.builtin.setup:
        gather_subset: ["!all"]
        filter: ansible_python

    - name: The modules run with the Python this test asked for
      ansible.builtin.assert:
        that:
          - ansible_facts.python.executable == compat_python

    - name: Read every user's keys
      keywarden.iam.access_key_info:
        all_users: true
      register: info

    - name: Check them and write a report
      keywarden.iam.access_key_compliance:
        all_users: true
        report_json: "{{ compat_report }}"
      register: compliance

    - name: Read them again and check again
      keywarden.iam.access_key_compliance:
        all_users: true
        report_json: "{{ compat_report }}"
      register: again

    - name: What they found, and on which Python
      ansible.builtin.assert:
        that:
          - info.access_keys | length >= 4
          - compliance.summary.findings > 0
          - compliance is changed
          - again is not changed
        success_msg: >-
          Python {{ ansible_facts.python.version.major }}.{{ ansible_facts.python.version.minor }}:
          {{ info.access_keys | length }} keys, {{ compliance.summary.findings }} findings""")
with FakeIam(SEEDS / "demo.json", tls=True) as iam:
    admin = iam.user("admin")["keys"][0]
    extra = {"compat_url": iam.url, "compat_ca": iam.ca_file, "compat_ak": admin["access"],
             "compat_sk": admin["secret"], "compat_report": str(work / "report.json"),
             "ansible_python_interpreter": target_python, "compat_python": target_python}
    (work / "vars.json").write_text(json.dumps(extra))
    (work / "vars.json").chmod(0o600)
    command = [str(ansible_bin / "ansible-playbook"), str(playbook), "-e", f"@{work / 'vars.json'}"]
    print("$ " + " ".join(command), flush=True)
    subprocess.run(command, check=True)
PY
  ); then
    outcome[$series]=passed
  else
    outcome[$series]=failed
  fi
  seconds_taken[$series]=$((SECONDS - start))
  echo "== ansible-core $series: ${outcome[$series]} in ${seconds_taken[$series]}s"
done

echo
echo "== make test-compat: $(basename "$tarball")"
failed=0 skipped=0
for series in "${series_list[@]}"; do
  printf '  ansible-core %-5s %-9s %-8s %4ss\n' "$series" "${core_version[$series]}" "${outcome[$series]}" \
    "${seconds_taken[$series]}"
  [ "${outcome[$series]}" != failed ] || failed=1
  [ "${outcome[$series]}" != skipped ] || skipped=1
done
echo "  total ${SECONDS}s"
[ "$failed" = 0 ] || exit 1
if [ "$skipped" = 1 ] && [ "${COMPAT_STRICT:-0}" = 1 ]; then
  echo "COMPAT_STRICT=1 and a supported series was skipped" >&2
  exit 1
fi
