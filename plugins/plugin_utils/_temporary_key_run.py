# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One run of keywarden.iam.temporary_access_key on the controller: preflight, assess, fetch, store.

Private to the keywarden.iam collection: the interface may change without notice.

Order: options, vault secret and destination file are checked first (nothing touches the
cloud), then the credentials the file holds are assessed, and only when they are missing or
due for renewal is a new temporary key fetched and written.

The clock: the file's expires_at was stamped by the IAM service, so it is compared with the
service's clock (the Date header), not with this machine's. The one request that reads it is
GET /v3/auth/domains signed with the stored temporary key itself: a read that needs no
permission, changes nothing, issues no token, and proves on the way that the key still works
(an expired one is refused with IAM.1108 and is renewed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from ansible_collections.keywarden.iam.plugins.module_utils._access_key_options import OptionError
from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._connection import ConnectionSettings, settings_from_params
from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import Credentials, format_fields
from ansible_collections.keywarden.iam.plugins.module_utils._errors import (
    AuthenticationFailed,
    Forbidden,
    SecurityTokenExpired,
    SignatureExpired,
    TaskError,
)
from ansible_collections.keywarden.iam.plugins.module_utils._models import (
    TemporaryKey,
    format_timestamp,
    parse_timestamp,
)
from ansible_collections.keywarden.iam.plugins.module_utils._results import failure_result
from ansible_collections.keywarden.iam.plugins.module_utils._signer import SigningKey
from ansible_collections.keywarden.iam.plugins.module_utils._temporary_key_options import (
    METHOD_AGENCY,
    TemporaryKeyRequest,
    check_temporary_key_options,
    password_needed_for,
)
from ansible_collections.keywarden.iam.plugins.plugin_utils._credential_store import CredentialFileError
from ansible_collections.keywarden.iam.plugins.plugin_utils._secret_destination import RunContext, SecretDestination

NEW_KEY_PLACEHOLDER = "(new)"


@dataclass(frozen=True)
class Assessment:
    """Why the file's credentials stay (``kept``) or are renewed (``kept`` is None).

    ``now`` is the IAM service's clock, when it was read.
    """

    reason: str
    now: datetime | None = None
    kept: Credentials | None = None

    @property
    def renew(self) -> bool:
        return self.kept is None


def run_temporary_access_key(params: dict, context: RunContext) -> dict:
    """The task result for ``params`` (already validated against the argument spec)."""
    try:
        return _run(params, context)
    except TaskError as error:
        return failure_result(error)


def _run(params: dict, context: RunContext) -> dict:
    # Preflight: nothing here talks to the cloud, so a mistake costs nothing.
    request = check_temporary_key_options(params)
    settings = settings_from_params(params, password_required_for=password_needed_for(request.method))
    context.secrets.update(settings.secrets)  # a clouds.yaml entry's: no option value masks it
    for warning in settings.warnings:
        context.warn(warning)
    destination = SecretDestination.prepare(
        context, credentials_file=params["credentials_file"], credentials_format=params["credentials_format"],
        vars_prefix=params["vars_prefix"], mode=request.mode, backup=params["backup"], vault_id=params["vault_id"],
        return_secret=params["return_secret"])
    if destination is None:
        raise OptionError("Set credentials_file (or return_secret): nobody would hold the new secret otherwise.")
    try:
        return _obtain(params, context, request, settings, destination)
    finally:
        destination.close()  # the file's lock, held from the first read, so two runs never fetch at once


def _obtain(params: dict, context: RunContext, request: TemporaryKeyRequest, settings: ConnectionSettings,
            destination: SecretDestination) -> dict:
    stored = destination.stored
    if stored is not None and stored.security_token is None:
        raise CredentialFileError(
            f"{destination.path} holds a permanent access key ({stored.access_key_id}), not a temporary one: "
            "refusing to replace a secret that cannot be fetched again; give the temporary key a file of its own."
        )
    expected_name = request.agency_name if request.method == METHOD_AGENCY else params["auth_username"]

    assessment = _assess(destination, stored, request, settings, expected_name, force=params["force"])
    result: dict[str, Any] = {
        "changed": assessment.renew,
        "renewed": assessment.renew,
        "reason": assessment.reason,
        "method": request.method,
        "credentials_file": destination.path,
        "credentials_file_changed": False,
    }
    if assessment.kept is not None:
        return _kept(result, destination, assessment.kept, assessment.now, context)
    if context.check_mode:
        return _predicted(result, destination, stored, request, assessment.now, context)
    return _fetched(result, destination, stored, request, settings, expected_name, context)


def _assess(destination: SecretDestination, stored: Credentials | None, request: TemporaryKeyRequest,
            settings: ConnectionSettings, expected_name: str | None, *, force: bool) -> Assessment:
    """Whether to fetch new credentials. Only a file's valid credentials of the asked identity are kept."""
    if force:
        return Assessment("force is set")
    store = destination.store
    if store is None:
        return Assessment("no credentials_file keeps credentials from one run to the next")
    if stored is None:
        return Assessment(f"{destination.path} holds no credentials yet")
    fields = format_fields(store.fmt)
    expires = _timestamp(stored.expires_at)
    if expires is None:
        return Assessment(f"{destination.path} does not say when its credentials expire")
    if "user_name" in fields and stored.user_name != expected_name:
        return Assessment(f"{destination.path} holds credentials of {stored.user_name or 'another identity'}, "
                          f"not of {expected_name}")
    if request.method == METHOD_AGENCY and request.agency_domain is not None:
        wanted_domain = request.agency_domain.get("domain_id")  # None for a domain_name: cannot compare
    else:
        wanted_domain = settings.domain_id  # the caller's own account, when the options name it
    if wanted_domain and stored.domain_id and stored.domain_id != wanted_domain:
        return Assessment(f"{destination.path} holds credentials of account {stored.domain_id}, not {wanted_domain}")
    return _assess_expiry(stored, expires, request.renew_before, settings)


def _assess_expiry(stored: Credentials, expires: datetime, renew_before: int,
                   settings: ConnectionSettings) -> Assessment:
    """Ask the IAM service, signed with the stored key, for its clock; the answer also shows the key works."""
    with IamClient(replace(settings, password_auth=None, domain_id=None, signing_key=SigningKey(
            stored.access_key_id, stored.secret_access_key, stored.security_token))) as probe:
        return _assess_with(probe, stored, expires, renew_before)


def _assess_with(probe: IamClient, stored: Credentials, expires: datetime, renew_before: int) -> Assessment:
    try:
        probe.domain_id()
    except SignatureExpired:
        raise  # this machine's clock is off: a new key would be refused just the same
    except SecurityTokenExpired:
        return Assessment(f"the credentials expired at {stored.expires_at}", probe.server_now())
    except (AuthenticationFailed, Forbidden) as error:
        return Assessment(f"the IAM API no longer accepts the stored credentials ({error.message})",
                          probe.server_now())
    now = probe.server_now()
    left = int((expires - now).total_seconds())
    if left <= renew_before:
        return Assessment(f"the credentials expire at {stored.expires_at}, in {max(left, 0)} s by the IAM clock, "
                          f"not more than renew_before ({renew_before} s)", now)
    return Assessment(f"the credentials are valid until {stored.expires_at}, {left} s from now by the IAM clock, "
                      f"more than renew_before ({renew_before} s)", now, kept=stored)


def _kept(result: dict, destination: SecretDestination, stored: Credentials, now: datetime | None,
          context: RunContext) -> dict:
    result.update(access_key_id=stored.access_key_id, expires_at=stored.expires_at,
                  expires_in=_seconds_left(stored.expires_at, now))
    if destination.return_secret:
        result.update(_vaulted_secrets(destination, stored))
    if context.diff:
        view = _file_view(stored.access_key_id, stored.expires_at)
        result["diff"] = _diff(destination, view, view)
    return result


def _predicted(result: dict, destination: SecretDestination, stored: Credentials | None,
               request: TemporaryKeyRequest, now: datetime | None, context: RunContext) -> dict:
    """Check mode: what a real run would fetch and write, with no request that changes anything."""
    # Approximate: a real run's key expires duration_seconds after the IAM service issues it.
    expires_at = format_timestamp((now or datetime.now(timezone.utc)) + timedelta(seconds=request.duration_seconds))
    result.update(access_key_id=NEW_KEY_PLACEHOLDER, expires_at=expires_at, expires_in=request.duration_seconds,
                  credentials_file_changed=destination.store is not None)
    if context.diff:
        before = _file_view(stored.access_key_id, stored.expires_at) if stored else {}
        result["diff"] = _diff(destination, before, _file_view(NEW_KEY_PLACEHOLDER, expires_at))
    return result


def _fetched(result: dict, destination: SecretDestination, stored: Credentials | None,
             request: TemporaryKeyRequest, settings: ConnectionSettings, expected_name: str | None,
             context: RunContext) -> dict:
    with IamClient(settings) as client:
        return _fetched_with(client, result, destination, stored, request, expected_name, context)


def _fetched_with(client: IamClient, result: dict, destination: SecretDestination, stored: Credentials | None,
                  request: TemporaryKeyRequest, expected_name: str | None, context: RunContext) -> dict:
    # The API needs the agency's account; by default it is the caller's own.
    agency_domain = request.agency_domain
    if request.method == METHOD_AGENCY and agency_domain is None:
        agency_domain = {"domain_id": client.domain_id()}
    key = client.create_temporary_key(
        duration_seconds=request.duration_seconds, agency_name=request.agency_name, agency_domain=agency_domain,
        session_user=request.session_user, policy=request.policy)
    creds = _credentials(client, key, request, agency_domain, expected_name)
    try:
        destination.write(creds)
    except CredentialFileError as error:
        # No undo is needed, nor possible: a temporary key cannot be deleted, and expires unused.
        unstored = CredentialFileError(f"A temporary access key ({creds.access_key_id}) was issued but could not be "
                                       f"stored; it expires unused at {creds.expires_at}: {error}")
        return failure_result(unstored, **{**result, "changed": True})
    result.update(access_key_id=creds.access_key_id, expires_at=creds.expires_at,
                  expires_in=_seconds_left(creds.expires_at, client.server_now()),
                  credentials_file_changed=destination.file_changed)
    if destination.backup_file:
        result["backup_file"] = destination.backup_file
    if destination.return_secret:
        result.update(_vaulted_secrets(destination, creds))
    if context.diff:
        before = _file_view(stored.access_key_id, stored.expires_at) if stored else {}
        result["diff"] = _diff(destination, before, _file_view(creds.access_key_id, creds.expires_at))
    return result


def _credentials(client: IamClient, key: TemporaryKey, request: TemporaryKeyRequest, agency_domain: dict | None,
                 expected_name: str | None) -> Credentials:
    """What the file records: the key, when it expires, and whose it is (user, or agency, and account)."""
    # The answer should carry expires_at; if not, the IAM clock at the answer plus the duration is close.
    expires = key.expires_at or client.server_now() + timedelta(seconds=request.duration_seconds)
    if request.method == METHOD_AGENCY:
        user_id = None
        # An agency named by domain_name is in an account whose id we were not told; the SDKs find it.
        domain_id = (agency_domain or {}).get("domain_id")
    else:
        user_id = client.caller_user_id()  # known from the password login, no extra request
        domain_id = client.domain_id()
    return Credentials(key.access_key_id, key.secret_access_key, user_id=user_id, user_name=expected_name,
                       security_token=key.security_token, expires_at=format_timestamp(expires),
                       domain_id=domain_id)


def _vaulted_secrets(destination: SecretDestination, creds: Credentials) -> dict:
    return {"secret_access_key": destination.vaulted(creds.secret_access_key),
            "security_token": destination.vaulted(creds.security_token or "")}


def _timestamp(value: str | None) -> datetime | None:
    """A file's expires_at as a time; None when absent or not a timestamp (a hand-edited file)."""
    try:
        return parse_timestamp(value) if value else None
    except ValueError:
        return None


def _seconds_left(expires_at: str | None, now: datetime | None) -> int | None:
    expires = _timestamp(expires_at)
    if expires is None or now is None:
        return None
    return max(0, int((expires - now).total_seconds()))


def _file_view(access_key_id: str, expires_at: str | None) -> dict:
    return {"access_key_id": access_key_id, "expires_at": expires_at}


def _diff(destination: SecretDestination, before: dict, after: dict) -> dict:
    """Before and after: which key, until when, in which file. Never a secret."""
    header = f"temporary access key in {destination.path}" if destination.path else "temporary access key"
    if destination.path:
        before = {**before, "path": destination.path} if before else {}
        after = {**after, "path": destination.path}
    return {"before": before, "after": after, "before_header": header, "after_header": header}
