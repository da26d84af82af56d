"""The concurrency campaign: runs of one controller racing on one IAM user, and what must hold after.

Every run of a round calls the function the access_key action plugin calls (``run_access_key``),
in a process of its own forked from this one, against the local IAM-compatible server. All the
runs of a round share one state directory (one controller: the per-user lock, the index of which
file holds which key, the journals) and start at once behind a barrier, so they really race.
Each scenario plays its rounds twice: with every create answer delivered, and with one or two
create answers lost (``drop_after_commit`` on create_credential, armed before the round).

Scenarios (a fresh IAM user per round, make_room left at its default):

A. 2 runs on different files of one user, first keys (the user has no key, or one key no file holds:
   idle, inactive, in use, or made a moment ago);
B. the same with 4 runs;
C. 2 and 4 runs on different files that each already hold a key, rotating (when_older, max_age 90,
   old_key deactivate, some rounds delete): a first run per file sets them up, then the server
   clock moves 100 days on. One user's two keys fit only two files: in the 4-file rounds the
   set-up of the third and fourth file finds no room; and with make_room idle a rotation needs a
   third slot that no file-held key may free, so every C run must fail "none is safe to retire"
   before any change (the rounds check that nothing is lost; D and E rotate for real);
D. a mix: one run rotates a file that holds an aged key, the others create a first key into a new file;
E. 2 runs through two symbolic links to one real file (links in a private directory): first keys
   and rotations.

After every round:

1. no run reports success while its file holds a deleted or foreign key: the file of every run
   that did not fail decrypts, and its key is one of this user's keys on the server, with exactly
   that secret (and, for a file no other run shares, the key the run reported);
2. the user holds at most two keys;
3. no key whose secret nobody holds: every key on the server is in a file of the round (now or
   before the round) with its exact secret, or was seeded by the campaign;
4. a run that failed says why (a non-empty msg; the kinds are counted), and its file is untouched
   or holds a key that exists, with its secret (never a deleted one, even untouched: a key another
   run deleted under it counts); and it never meets what only a stale view of the user's keys can
   cause: the cloud's own two-key limit, or its new key gone before it is verified;
5. a plain sequential rerun of every run (no faults) converges: each rerun succeeds and its file
   holds a working key, or fails with "none is safe to retire" (counted, not a violation, when
   both key slots are legitimately taken: every key is held by a file of the round, or is a
   seeded key in use); a second rerun changes nothing;
6. a seeded key that is not safe to retire (used yesterday, or made a moment ago) still exists
   after the round and after the reruns.

tests/unit/chaos/test_concurrency.py runs it: a few rounds per scenario in make test, 50 with
KEYWARDEN_CONCURRENCY_ROUNDS=50 (make chaos), printing the summary.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from random import Random

import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

from tests.fakeiam.harness import SEEDS, FakeIam

VAULT = [("default", VaultSecret(b"concurrency-vault-password"))]
ADMIN = {"access_key": "CVKK734506UOYW5P4XW2", "secret_key": "8iXmKEWTu6IAMHt0vln3mwV3rRFpNLTRrsogxD1X"}
SCENARIOS = ("A", "B", "C", "D", "E")
TITLES = {
    "A": "2 runs, different files, first keys",
    "B": "4 runs, different files, first keys",
    "C": "2 or 4 runs, files holding keys, rotating",
    "D": "rotate one file + first keys into new files",
    "E": "2 runs through 2 links to one file",
}
NO_ROOM = "The user already holds 2 access keys, the most the cloud allows, and none is safe to retire"
# Failures no run of one controller can meet when it plans under the user's lock: they show a run
# that acted on a stale view of the user's keys (another run's change landed in between).
STALE_VIEW = {
    "KeyLimitExceeded": "the cloud refused a third key: the run planned without seeing another run's key",
    "AuthenticationFailed": "the new key stopped working before it was verified: another run deleted it",
}
MAX_AGE = 90
AGED_DAYS = 100
# Generous, fixed waits: a run that is not done by then is reported as a violation, never retried.
BARRIER_TIMEOUT = 120.0
RUN_TIMEOUT = 600.0
_FORK = multiprocessing.get_context("fork")


# ---- the report ----------------------------------------------------------------------------------

@dataclass
class Cell:
    """One scenario with create answers delivered (lost=False) or lost (lost=True)."""

    rounds: int = 0
    runs: int = 0
    successes: int = 0
    failures: Counter = field(default_factory=Counter)
    rerun_no_room: int = 0
    answers_lost: int = 0
    # Rounds in which every run had started before the first one ended: they really raced.
    raced: int = 0
    violations: list = field(default_factory=list)
    violation_kinds: Counter = field(default_factory=Counter)


@dataclass
class Report:
    rounds_per_cell: int
    seed: int
    cells: dict = field(default_factory=dict)
    # One line per round: its variant and what each run did (KEYWARDEN_CONCURRENCY_TRACE=1 prints them).
    trace: list = field(default_factory=list)

    def cell(self, scenario: str, lost: bool) -> Cell:
        return self.cells.setdefault((scenario, lost), Cell())

    @property
    def violations(self) -> list:
        return [violation for cell in self.cells.values() for violation in cell.violations]

    def summary(self) -> str:
        lines = [f"concurrency campaign: {self.rounds_per_cell} rounds per scenario and mode, seed {self.seed}",
                 f"{'scenario':<48} {'answers':<8} {'rounds':>6} {'runs':>5} {'ok':>4} {'failed':>6} "
                 f"{'lost':>4} {'raced':>5} {'rerun no room':>13} {'violations':>10}"]
        kinds: Counter = Counter()
        for (scenario, lost), cell in sorted(self.cells.items()):
            failed = sum(cell.failures.values())
            lines.append(f"{scenario} {TITLES[scenario]:<46} {'lost' if lost else 'kept':<8} {cell.rounds:>6} "
                         f"{cell.runs:>5} {cell.successes:>4} {failed:>6} {cell.answers_lost:>4} {cell.raced:>5} "
                         f"{cell.rerun_no_room:>13} {len(cell.violations):>10}")
            for kind, number in sorted(cell.failures.items(), key=lambda item: (-item[1], item[0])):
                lines.append(f"    {number:>4} x {kind}")
            kinds.update(cell.failures)
        lines.append("failures by kind of message, all scenarios:")
        lines += [f"  {number:>5} x {kind}" for kind, number in sorted(kinds.items(), key=lambda i: (-i[1], i[0]))]
        violations = self.violations
        if violations:
            lines.append("violations by kind:")
            broken: Counter = Counter()
            for cell in self.cells.values():
                broken.update(cell.violation_kinds)
            lines += [f"  {number:>5} x {kind}" for kind, number in sorted(broken.items(), key=lambda i: (-i[1], i[0]))]
            lines.append("the first violations:")
        lines += [f"  {violation}" for violation in violations[:30]]
        lines.append(f"violations {len(violations)}")
        return "\n".join(lines)


# ---- runs ----------------------------------------------------------------------------------------

def _run_function():
    """run_access_key and its context type, imported from the checkout (see conftest.py)."""
    from ansible_collections.keywarden.iam.plugins.plugin_utils._access_key_run import run_access_key
    from ansible_collections.keywarden.iam.plugins.plugin_utils._secret_destination import RunContext
    return run_access_key, RunContext


def params_for(iam: FakeIam, user: str, path: Path, **options) -> dict:
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    from ansible_collections.keywarden.iam.plugins.module_utils._access_key_options import access_key_argument_spec

    # A timeout far above what a busy 2-core machine needs, so that no answer is lost by accident.
    task = {**ADMIN, "iam_endpoint": iam.url, "user_name": user, "credentials_file": str(path),
            "rotate": "when_older", "max_age": MAX_AGE, "timeout": 30, "retries": 2, "verify_timeout": 10,
            **options}
    result = ArgumentSpecValidator(access_key_argument_spec()).validate(task)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


@dataclass
class Run:
    label: str
    path: Path       # as the task names it (a link, in scenario E)
    params: dict
    shared: bool = False   # another run of the round works on the same real file


def _plain(value):
    """``value`` with everything JSON cannot carry (vaulted secrets, objects) left out."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if _serialisable(v)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value if _serialisable(v)]
    return value


def _serialisable(value) -> bool:
    if isinstance(value, (dict, list, tuple)):
        return True
    return value is None or type(value) in (str, int, float, bool)


def _child(connection, barrier, run_access_key, params: dict, context) -> None:
    """One run in its own process: wait for the others, run, send the result back as JSON."""
    try:
        barrier.wait(BARRIER_TIMEOUT)
        started = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process of the machine
        result = _plain(run_access_key(params, context))
        answer = {"result": result, "started": started, "ended": time.monotonic()}
    except BaseException:  # any crash is reported to the parent, which counts it
        answer = {"crash": traceback.format_exc()}
    connection.send_bytes(json.dumps(answer).encode("utf-8"))
    connection.close()


def race(run_access_key, context, runs: list) -> list:
    """Start every run in a forked process at once; each run's result, or {"crash": ...}."""
    barrier = _FORK.Barrier(len(runs))
    started = []
    for run in runs:
        receiver, sender = _FORK.Pipe(duplex=False)
        process = _FORK.Process(target=_child, args=(sender, barrier, run_access_key, run.params, context),
                                daemon=True)
        process.start()
        sender.close()
        started.append((process, receiver))
    answers = []
    for _process, receiver in started:
        try:
            if receiver.poll(RUN_TIMEOUT):
                answers.append(json.loads(receiver.recv_bytes().decode("utf-8")))
            else:
                answers.append({"crash": f"no answer within {RUN_TIMEOUT:.0f} s"})
        except EOFError:
            answers.append({"crash": "the run's process ended without an answer"})
        finally:
            receiver.close()
    for process, _receiver in started:
        process.join(RUN_TIMEOUT)
        if process.is_alive():
            process.kill()
            process.join()
    return answers


def _outcome(run: Run, answer: dict) -> str:
    result = answer.get("result")
    if result is None:
        return f"{run.label} crashed"
    if result.get("failed"):
        return f"{run.label} failed ({message_kind(result.get('msg') or '')[:30]}...)"
    done = [f"{what} {','.join(result[what])}" for what in ("created", "deleted", "deactivated") if result.get(what)]
    return f"{run.label} ok {result.get('access_key_id')}" + (f" ({'; '.join(done)})" if done else " (no change)")


# ---- what the files and the server hold -----------------------------------------------------------

def read_file(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def decrypted(data: bytes | None) -> dict:
    """What a credentials file holds (yaml format); {} for no file. Raises when it does not decrypt."""
    if not data:
        return {}
    loaded = yaml.safe_load(VaultLib(VAULT).decrypt(data))
    if not isinstance(loaded, dict):
        raise ValueError("it does not hold a YAML mapping")
    return loaded


def held_pair(data: bytes | None) -> tuple | None:
    """(access key id, secret) a file holds, or None."""
    creds = decrypted(data)
    if creds.get("iam_access_key") is None:
        return None
    return creds.get("iam_access_key"), creds.get("iam_secret_key")


def server_keys(iam: FakeIam, user: str) -> dict:
    return {key["access"]: key for key in iam.keys_of(user)}


def message_kind(message: str) -> str:
    """The first 60 characters of a message, with key ids, user ids and paths made generic."""
    text = re.sub(r"/\S+", "<path>", message or "")
    text = re.sub(r"\b[0-9a-f]{32}\b", "<user>", text)
    text = re.sub(r"\b[A-Z0-9]{20}\b", "<AK>", text)
    return text[:60]


# ---- the campaign --------------------------------------------------------------------------------

class Campaign:
    def __init__(self, iam: FakeIam, workdir: Path, rounds: int, seed: int) -> None:
        self.iam = iam
        self.workdir = workdir
        self.rng = Random(seed)
        self.report = Report(rounds_per_cell=rounds, seed=seed)
        self.rounds = rounds
        self.run_access_key, run_context = _run_function()
        self.context = run_context(vault_secrets=VAULT, default_encrypt_identity=None, check_mode=False, diff=False,
                                   warn=lambda message: None, state_dir=str(workdir / "state"))
        self._numbers = count(1)
        self._protected: set = set()

    def run(self) -> Report:
        for scenario in SCENARIOS:
            for lost in (False, True):
                for number in range(self.rounds):
                    self.play(scenario, lost, number)
        return self.report

    # -- one round

    def play(self, scenario: str, lost: bool, number: int) -> None:
        cell = self.report.cell(scenario, lost)
        round_no = next(self._numbers)
        where = f"{scenario}{'-lost' if lost else ''} round {number}"
        self.iam.clear_faults()
        self.iam.set_clock_offset(0)
        user = f"conc{round_no}-{scenario.lower()}"
        self.iam.add_user(user)
        directory = self.workdir / f"round{round_no}"
        directory.mkdir(mode=0o700)
        problems: list = []
        seeded: dict = {}
        self._protected = set()
        runs, variant = getattr(self, f"_setup_{scenario.lower()}")(user, directory, number, seeded, problems)
        where = f"{where} ({variant}, user {user})"
        files = sorted({run.path.resolve() for run in runs})
        before = {path: read_file(path) for path in files}
        armed = self.rng.choice((1, 2)) if lost else 0
        if armed:
            self.iam.inject_fault("create_credential", "drop_after_commit", count=armed)

        answers = race(self.run_access_key, self.context, runs)

        cell.answers_lost += armed - self._still_armed()
        self.iam.clear_faults()
        cell.rounds += 1
        cell.runs += len(runs)
        timed = [answer for answer in answers if "started" in answer]
        if len(timed) == len(runs) and max(a["started"] for a in timed) < min(a["ended"] for a in timed):
            cell.raced += 1
        after = {path: read_file(path) for path in files}
        keys = server_keys(self.iam, user)
        known = dict(seeded)
        for data in (*before.values(), *after.values()):
            pair = self._pair(data, "?", problems)
            if pair:
                known[pair[0]] = pair[1]
        if len(keys) > 2:
            problems.append(f"the user holds {len(keys)} keys")
        for run, answer in zip(runs, answers):
            self._check_run(run, answer, before, after, keys, cell, problems)
        self.report.trace.append(f"{where}: " + "; ".join(_outcome(run, answer) for run, answer in zip(runs, answers)))
        self._check_nobody_holds(keys, known, "after the round", problems)
        self._check_protected(keys, seeded, "the round", problems)
        self._protected &= set(keys)  # the reruns are checked for the keys the round left
        self._check_reruns(user, runs, files, known, seeded, cell, problems)
        cell.violations += [f"{where}: {problem}" for problem in problems]
        cell.violation_kinds.update(message_kind(re.sub(r"^[\w-]+: ", "", problem)) for problem in problems)

    def _check_run(self, run: Run, answer: dict, before: dict, after: dict, keys: dict, cell: Cell,
                   problems: list) -> None:
        if "crash" in answer:
            problems.append(f"{run.label}: the run crashed: {answer['crash']}")
            return
        result = answer["result"]
        real = run.path.resolve()
        pair = self._pair(after[real], run.label, problems)
        if not result.get("failed"):
            cell.successes += 1
            if pair is None:
                problems.append(f"{run.label}: reports success, and its file holds no key")
            elif pair[0] not in keys:
                problems.append(f"{run.label}: reports success while its file holds {pair[0]}, which the user "
                                "does not hold (deleted, or another user's)")
            elif keys[pair[0]]["secret"] != pair[1]:
                problems.append(f"{run.label}: reports success while its file holds {pair[0]} with a wrong secret")
            elif not run.shared and result.get("access_key_id") != pair[0]:
                problems.append(f"{run.label}: reports access_key_id {result.get('access_key_id')}, its file "
                                f"holds {pair[0]}")
            return
        message = result.get("msg") or ""
        cell.failures[message_kind(message)] += 1
        if not message.strip():
            problems.append(f"{run.label}: failed without a message")
        stale = STALE_VIEW.get((result.get("error") or {}).get("error_type"))
        if stale:
            problems.append(f"{run.label}: {stale}: {message[:160]}")
        # Untouched, or holding a key that exists; an untouched file whose key another run deleted counts too.
        touched = after[real] != before[real]
        if pair is None:
            if self._pair(before[real], run.label, []) is not None:
                problems.append(f"{run.label}: failed, and its file lost the key it held")
        elif pair[0] not in keys or keys[pair[0]]["secret"] != pair[1]:
            problems.append(f"{run.label}: failed, and its file ({'changed' if touched else 'untouched'}) holds "
                            f"{pair[0]}, which the user does not hold with that secret")

    def _check_nobody_holds(self, keys: dict, known: dict, when: str, problems: list) -> None:
        for access, key in keys.items():
            if known.get(access) != key["secret"]:
                problems.append(f"{when}: key {access} exists and no file of the round ever held its secret")

    def _check_protected(self, keys: dict, seeded: dict, when: str, problems: list) -> None:
        """A seeded key that is not safe to retire (in use, or younger than 10 minutes) is never deleted."""
        for access in sorted(self._protected):
            if access not in keys or keys[access]["secret"] != seeded[access]:
                problems.append(f"{when} deleted the seeded key {access}, which was not safe to retire")

    def _check_reruns(self, user: str, runs: list, files: list, known: dict, seeded: dict, cell: Cell,
                      problems: list) -> None:
        """Rule 5: one sequential rerun of every run converges, and the next one changes nothing."""
        no_room: set = set()
        for run in runs:
            result = _plain(self.run_access_key(run.params, self.context))
            if not result.get("failed"):
                continue
            if (result.get("msg") or "").startswith(NO_ROOM):
                cell.rerun_no_room += 1
                no_room.add(run.path.resolve())
                self._check_slots_taken(user, run, files, problems)
            else:
                problems.append(f"{run.label}: the rerun failed: {result.get('msg')}")
        keys = server_keys(self.iam, user)
        for path in files:
            pair = self._pair(read_file(path), str(path.name), problems)
            if pair is not None:
                known[pair[0]] = pair[1]
                if pair[0] not in keys or keys[pair[0]]["secret"] != pair[1]:
                    problems.append(f"after the rerun, {path.name} holds {pair[0]}, which the user does not hold "
                                    "with that secret")
            elif path not in no_room:
                problems.append(f"after the rerun, {path.name} holds no key")
        if len(keys) > 2:
            problems.append(f"after the rerun, the user holds {len(keys)} keys")
        self._check_nobody_holds(keys, known, "after the rerun", problems)
        self._check_protected(keys, seeded, "the rerun", problems)
        snapshot = self._snapshot(user, files)
        for run in runs:
            result = self.run_access_key(run.params, self.context)
            if result.get("changed"):
                problems.append(f"{run.label}: the second rerun changed something: {result.get('plan')}")
            if result.get("failed") and not (result.get("msg") or "").startswith(NO_ROOM):
                problems.append(f"{run.label}: the second rerun failed: {result.get('msg')}")
        if self._snapshot(user, files) != snapshot:
            problems.append("the second rerun changed the keys or the files")

    def _check_slots_taken(self, user: str, run: Run, files: list, problems: list) -> None:
        """"None is safe to retire" is legitimate only when every key is held by a file or in use by someone."""
        held = {pair for pair in (self._pair(read_file(path), "", []) for path in files) if pair}
        for access, key in server_keys(self.iam, user).items():
            if (access, key["secret"]) not in held and access not in self._protected:
                problems.append(f"{run.label}: the rerun found no room, though key {access} is held by no file "
                                "and was not seeded in use")

    def _snapshot(self, user: str, files: list) -> tuple:
        keys = sorted((key["access"], key["status"], key["secret"]) for key in self.iam.keys_of(user))
        return keys, [self._pair(read_file(path), "", []) for path in files]

    def _pair(self, data: bytes | None, label: str, problems: list) -> tuple | None:
        try:
            return held_pair(data)
        except Exception as error:  # a file that does not decrypt is a violation
            problems.append(f"{label}: the file does not decrypt or parse: {type(error).__name__}: {error}")
            return None

    def _still_armed(self) -> int:
        """How many lost create answers are still armed (the others were lost in the round)."""
        armed = self.iam.control("GET", "faults")["armed"]
        return sum(fault["remaining"] for fault in armed if fault["operation"] == "create_credential")

    # -- set-ups: each returns the runs of the round and a word on its variant

    def _seed_key(self, user: str, kind: str, seeded: dict) -> None:
        """One key that no file holds, its secret known to the campaign only.

        idle and inactive: safe to retire to make room. in use (last used yesterday) and fresh (made a
        moment ago, say by another controller, inside the create window of the round's runs): never
        deleted, neither to make room nor as the lost answer of a create.
        """
        fields = {"idle": {"age_days": 200, "last_use_age_days": 30},
                  "in use": {"age_days": 200, "last_use_age_days": 1},
                  "fresh": {"age_days": 0},
                  "inactive": {"age_days": 200, "last_use_age_days": 60, "status": "inactive"}}[kind]
        key = self.iam.add_key(user, **fields)
        seeded[key["access"]] = key["secret"]
        if kind in ("in use", "fresh"):
            self._protected.add(key["access"])

    def _start(self, user: str, number: int, seeded: dict) -> str:
        """A/B/E first keys: the user starts with no key, or with one key no file holds."""
        start = ("no key", "fresh", "idle", "in use", "inactive")[number % 5]
        if start != "no key":
            self._seed_key(user, start, seeded)
            return f"1 {start} key"
        return start

    def _setup(self, run: Run, problems: list, *, may_lack_room: bool = False) -> None:
        result = self.run_access_key(run.params, self.context)
        if result.get("failed") and not (may_lack_room and (result.get("msg") or "").startswith(NO_ROOM)):
            problems.append(f"set-up of {run.label} failed: {result.get('msg')}")

    def _files(self, user: str, directory: Path, names, **options) -> list:
        return [Run(name, directory / f"{name}.yml", params_for(self.iam, user, directory / f"{name}.yml", **options))
                for name in names]

    def _setup_a(self, user, directory, number, seeded, problems):
        start = self._start(user, number, seeded)
        return self._files(user, directory, ("f1", "f2")), f"start: {start}"

    def _setup_b(self, user, directory, number, seeded, problems):
        start = self._start(user, number, seeded)
        return self._files(user, directory, ("f1", "f2", "f3", "f4")), f"start: {start}"

    def _setup_c(self, user, directory, number, seeded, problems):
        width, retire = ((2, "deactivate"), (4, "deactivate"), (2, "delete"), (4, "delete"))[number % 4]
        runs = self._files(user, directory, [f"f{i}" for i in range(1, width + 1)], old_key=retire)
        for run in runs:
            # Only two files can hold a key of one user: the set-up of a third and a fourth has no room.
            self._setup(run, problems, may_lack_room=True)
        self.iam.advance_clock(days=AGED_DAYS)
        held = sum(1 for run in runs if read_file(run.path))
        return runs, f"{width} files ({held} holding a key), old_key {retire}"

    def _setup_d(self, user, directory, number, seeded, problems):
        new_files = 1 + number % 3
        retire = self.rng.choice(("deactivate", "delete"))
        runs = self._files(user, directory, ["old", *[f"new{i}" for i in range(1, new_files + 1)]], old_key=retire)
        self._setup(runs[0], problems)
        self.iam.advance_clock(days=AGED_DAYS)
        return runs, f"1 aged file, {new_files} new, old_key {retire}"

    def _setup_e(self, user, directory, number, seeded, problems):
        real_dir, link_dir = directory / "real", directory / "links"
        real_dir.mkdir(mode=0o700)
        link_dir.mkdir(mode=0o700)
        real = real_dir / "credentials.yml"
        retire = self.rng.choice(("deactivate", "delete"))
        runs = []
        for name in ("link1", "link2"):
            (link_dir / f"{name}.yml").symlink_to(real)
            runs.append(Run(name, link_dir / f"{name}.yml",
                            params_for(self.iam, user, link_dir / f"{name}.yml", old_key=retire), shared=True))
        variant = ("first key", "rotation")[number % 2]
        if variant == "rotation":
            self._setup(Run("real file", real, params_for(self.iam, user, real, old_key=retire)), problems)
            self.iam.advance_clock(days=AGED_DAYS)
            return runs, f"rotation, old_key {retire}"
        start = self._start(user, number // 2, seeded)
        return runs, f"first key, start: {start}"


def campaign(rounds: int, seed: int) -> Report:
    """``rounds`` rounds of every scenario, with create answers delivered and lost."""
    with tempfile.TemporaryDirectory(prefix="keywarden-concurrency-") as tmp, FakeIam(SEEDS / "demo.json") as iam:
        workdir = Path(tmp)
        os.chmod(workdir, 0o700)
        iam.reset()
        return Campaign(iam, workdir, rounds, seed).run()
