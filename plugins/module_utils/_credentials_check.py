# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Prove that a delivered credentials file works: read it as its consumer does, sign one request.

Private to the keywarden.iam collection: the interface may change without notice.

Runs on the managed host (module ``credentials_check``), so standard library and ansible-core's
module_utils only, importable on Python 3.8. The key comes from the file and nowhere else: no
option and no environment variable can supply or change it, so a success proves the file.

The request is ``GET /v3.0/OS-CREDENTIAL/credentials`` (the caller's own keys): harmless, allowed
to every user for their own keys, and its answer names the key's user. ``X-Domain-Id`` is the
file's domain id, or learnt first with ``GET /v3/auth/domains`` (which needs none). Messages read
"Failed to verify <path>: <why>. <what to do>" and never quote the file or the secret.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any, Mapping

from ansible_collections.keywarden.iam.plugins.module_utils import _errors as errors
from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._connection import (
    CREDENTIAL_OPTIONS,
    ENV_FALLBACKS,
    settings_from_params,
)
from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import (
    CredentialFormatError,
    Credentials,
    check_options,
    parse,
)
from ansible_collections.keywarden.iam.plugins.module_utils._headers import find_header
from ansible_collections.keywarden.iam.plugins.module_utils._signer import SigningKey
from ansible_collections.keywarden.iam.plugins.module_utils._transport import HttpResponse, HttpTransport

# The options that choose the endpoint and how to reach it: the only connection options the
# check takes. The key, its secret, token and account come from the file.
ENDPOINT_OPTIONS = ("cloud", "vendor", "region", "iam_endpoint", "validate_certs", "ca_path", "timeout", "retries")
# The options that name an endpoint; without any of them the file's own IAM endpoint is used.
_ENDPOINT_CHOICE = ("cloud", "vendor", "region", "iam_endpoint")
# No credentials file is this large; reading on would only cost memory.
MAX_FILE_BYTES = 1 << 20
# 403 codes that refuse an authenticated caller a permission (policy), as opposed to IAM.0080-0082,
# which refuse a disabled key or user. The gateway checked the signature before either.
_POLICY_DENIALS = frozenset(("IAM.0002", "IAM.0003"))
# The environment variables that could supply a key or an account: never read for the check.
_CREDENTIAL_VARIABLES = frozenset(name for option in (*CREDENTIAL_OPTIONS, "domain_id")
                                  for name in ENV_FALLBACKS.get(option, ()))
_DELIVER_AGAIN = "deliver the account's current key to this host again (keywarden.iam.fleet_credentials)"


class VerificationFailed(errors.TaskError):
    """The file does not hold a key that works. ``cause`` is the IAM error, when IAM refused it."""

    def __init__(self, message: str, *, access_key_id: str | None = None,
                 cause: errors.IamError | None = None) -> None:
        super().__init__(message)
        self.access_key_id = access_key_id
        self.cause = cause

    def details(self) -> dict | None:
        return self.cause.details() if self.cause is not None else None


@dataclass(frozen=True)
class Verified:
    """What the check proved: IAM accepted the file's key, and who it belongs to."""

    path: str
    format: str
    access_key_id: str
    user_id: str | None
    domain_id: str
    iam_endpoint: str
    server_time: str | None  # IAM's clock (its Date header), ISO 8601 UTC with Z
    warnings: tuple = ()

    def result(self) -> dict:
        return {
            "path": self.path,
            "format": self.format,
            "access_key_id": self.access_key_id,
            "user_id": self.user_id,
            "domain_id": self.domain_id,
            "iam_endpoint": self.iam_endpoint,
            "server_time": self.server_time,
            "verified": True,
        }


def load(path: str, fmt: str, *, vars_prefix: str) -> Credentials:
    """The credentials ``path`` holds in ``fmt``, read as its consumer reads it (links followed).

    Raises VerificationFailed when the file is missing, unreadable, not a regular file, not text,
    or holds no key that ``fmt`` can read.
    """
    try:
        check_options(fmt, vars_prefix=vars_prefix)
    except CredentialFormatError as exc:
        raise _failed(path, str(exc), "correct format or vars_prefix") from None
    text = _read_text(path)
    try:
        creds = parse(fmt, text, vars_prefix=vars_prefix)
    except CredentialFormatError as exc:
        # The parser's messages name a line or a field, never its content.
        raise _failed(path, f"it does not hold valid {fmt} credentials ({exc})",
                      f"check that format matches the file, or {_DELIVER_AGAIN}") from None
    if creds is None:
        raise _failed(path, f"it holds no access key in the {fmt} format",
                      f"check that format (and vars_prefix, for yaml) match the file, or {_DELIVER_AGAIN}")
    return creds


def verify(path: str, fmt: str, creds: Credentials, options: Mapping[str, Any], *,
           environ: Mapping[str, str] | None = None, transport: HttpTransport | None = None) -> Verified:
    """Sign one request with ``creds`` and report what IAM says of the key.

    ``options`` are the endpoint options (``ENDPOINT_OPTIONS``); any other key is ignored.
    ``transport`` replaces the HTTP transport (tests). Raises VerificationFailed.
    """
    client, recorder = _client(path, creds, options, environ, transport)
    with client:
        return _verify_with(client, recorder, path, fmt, creds)


def _verify_with(client: IamClient, recorder: DateRecorder, path: str, fmt: str, creds: Credentials) -> Verified:
    warnings = list(client.settings.warnings)  # validate_certs off, a clouds.yaml entry's notes
    domain_id: str | None = None
    try:
        domain_id = client.domain_id()
        user_id = _user_id(client, creds)
    except errors.Forbidden as error:
        if error.code not in _POLICY_DENIALS:
            raise _refused(path, creds, error) from None
        # Authenticated (the gateway checks the signature first) but not allowed to read its
        # own keys, as with the console's Access Key Management switch on some clouds: the key
        # works, and only the answer that names its user is missing.
        domain_id = domain_id or creds.domain_id or ""
        user_id = creds.user_id
        warnings.append(
            f"IAM accepted the key {creds.access_key_id} of {path} but did not let it list its own access keys "
            f"({error.code}), so its user id is {'the one the file records' if user_id else 'unknown'}."
        )
    except errors.IamError as error:
        raise _refused(path, creds, error) from None
    if creds.user_id and user_id and creds.user_id != user_id:
        raise _failed(path, f"it says the key {creds.access_key_id} belongs to user {creds.user_id}, but IAM says "
                            f"user {user_id}", _DELIVER_AGAIN, access_key_id=creds.access_key_id)
    return Verified(path=path, format=fmt, access_key_id=creds.access_key_id, user_id=user_id,
                    domain_id=domain_id or "", iam_endpoint=client.settings.endpoint,
                    server_time=recorder.server_time(), warnings=tuple(warnings) + _mode_warnings(path))


class DateRecorder(HttpTransport):
    """The HTTP transport, keeping the ``Date`` header of the latest answer: the IAM service's clock."""

    def __init__(self, inner: HttpTransport) -> None:
        super().__init__(timeout=inner.timeout, validate_certs=inner.validate_certs, ca_path=inner.ca_path)
        self._inner = inner
        self.date: str | None = None

    def close(self) -> None:
        self._inner.close()

    def send(self, method: str, url: str, headers: dict, body: bytes) -> HttpResponse:
        response = self._inner.send(method, url, headers, body)
        self.date = find_header(response.headers, "Date") or self.date
        return response

    def server_time(self) -> str | None:
        if not self.date:
            return None
        try:
            moment = parsedate_to_datetime(self.date)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:  # "-0000": UTC by RFC 5322
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _client(path: str, creds: Credentials, options: Mapping[str, Any], environ: Mapping[str, str] | None,
            transport: HttpTransport | None) -> tuple[IamClient, DateRecorder]:
    params: dict = {name: options.get(name) for name in ENDPOINT_OPTIONS}
    if not any(params.get(name) for name in _ENDPOINT_CHOICE) and creds.iam_endpoint:
        params["iam_endpoint"] = creds.iam_endpoint  # what the file's consumer connects to
    params.update(access_key=creds.access_key_id, secret_key=creds.secret_access_key,
                  security_token=creds.security_token)
    # Without the environment's credential variables, the file's key counts as the task's own: it
    # wins over a clouds.yaml entry's, even where the environment happens to hold the same value.
    environ = {name: value for name, value in (os.environ if environ is None else environ).items()
               if name not in _CREDENTIAL_VARIABLES}
    try:
        settings = settings_from_params(params, environ=environ)
    except errors.TaskError as error:
        # Endpoint options only: the credentials are the file's and always complete.
        raise _failed(path, str(error).rstrip("."), "correct the endpoint options (iam_endpoint, cloud, vendor, "
                      "region, ca_path, timeout, retries)", access_key_id=creds.access_key_id) from None
    # The key and the account are the file's, never an option's, an entry's or the environment's:
    # a wrong one must fail.
    settings = replace(settings, signing_key=SigningKey(creds.access_key_id, creds.secret_access_key,
                                                        creds.security_token),
                       password_auth=None, domain_id=creds.domain_id or None)
    inner = transport or HttpTransport(timeout=settings.timeout, validate_certs=settings.validate_certs,
                                       ca_path=settings.ca_path)
    recorder = DateRecorder(inner)
    return IamClient(settings, transport=recorder), recorder


def _user_id(client: IamClient, creds: Credentials) -> str | None:
    keys = client.list_keys()
    mine = [key for key in keys if key.access_key_id == creds.access_key_id]
    if mine:
        return mine[0].user_id or None
    if keys:
        return keys[0].user_id or None  # a temporary key: the list holds its user's permanent keys
    # A temporary key of a user without permanent keys: only the caller-identity call can say.
    try:
        return client.caller_user_id()
    except errors.IamError:
        return creds.user_id


def _read_text(path: str) -> str:
    try:
        # Links are followed, as the consumer follows them; O_NONBLOCK: a FIFO does not hang the run.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise _failed(path, "the file does not exist",
                      "deliver the credentials to this host first (keywarden.iam.fleet_credentials), or correct "
                      "path") from None
    except PermissionError:
        raise _failed(path, f"this user (uid {os.geteuid()}) may not read it",
                      "run the task as the user that consumes the file, or with become") from None
    except OSError as exc:
        raise _failed(path, f"it cannot be opened ({exc.strerror or type(exc).__name__})", "correct path") from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise _failed(path, f"it is {_kind(status.st_mode)}, not a regular file", "correct path")
        chunks = []
        size = 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(descriptor, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise _failed(path, f"it cannot be read ({exc.strerror or type(exc).__name__})", "correct path") from None
    finally:
        os.close(descriptor)
    if size > MAX_FILE_BYTES:
        raise _failed(path, f"it is larger than {MAX_FILE_BYTES // 1024} KiB, which no credentials file is",
                      "correct path")
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise _failed(path, "it is not UTF-8 text", f"check path, or {_DELIVER_AGAIN}") from None


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
    return next((words for test, words in kinds if test(mode)), "a special file")


def _mode_warnings(path: str) -> tuple:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return ()
    if mode & stat.S_IROTH:
        return (f"{path} is readable by every user of this host (mode {stat.S_IMODE(mode):04o}): anyone on it can "
                "use the key. Give it mode 0600 or 0640.",)
    return ()


# What to do when IAM refuses the key, by what the refusal means. The error's own hints speak of
# task options (access_key, secret_key), which are not where this key comes from.
def _advice(error: errors.IamError) -> str:
    if error.code == "IAM.1107":
        return f"Activate the key again (keywarden.iam.access_key), or {_DELIVER_AGAIN}"
    if isinstance(error, errors.SecurityTokenExpired):
        return "The temporary key has expired: deliver a fresh one"
    if isinstance(error, errors.SignatureExpired):
        return ("This host's clock differs from IAM's by more than 15 minutes: synchronise it (NTP, chrony or "
                "systemd-timesyncd)")
    if isinstance(error, errors.AuthenticationFailed):
        return ("The key was deleted, or the file holds another secret or another account's domain id than the "
                f"key's: {_DELIVER_AGAIN}")
    if isinstance(error, errors.Forbidden):
        return f"The key or its user is disabled: enable it, or {_DELIVER_AGAIN}"
    return errors.hint_for(type(error)).rstrip(".")


def _refused(path: str, creds: Credentials, error: errors.IamError) -> VerificationFailed:
    return _failed(path, f"IAM did not accept the key {creds.access_key_id}: {_why(error)}", _advice(error),
                   access_key_id=creds.access_key_id, cause=error)


def _why(error: errors.IamError) -> str:
    """The reason in an IamError's "Failed to <what>: <why>. <hint>" message."""
    message = str(error)
    hint = errors.hint_for(type(error))
    if hint and message.endswith(" " + hint):
        message = message[: -len(hint) - 1]
    if message.startswith("Failed to ") and ": " in message:
        message = message.split(": ", 1)[1]
    return message.rstrip(".")


def _failed(path: str, why: str, todo: str, **kwargs) -> VerificationFailed:
    todo = todo[:1].upper() + todo[1:]
    return VerificationFailed(f"Failed to verify {path}: {why}. {todo.rstrip('.')}.", **kwargs)
