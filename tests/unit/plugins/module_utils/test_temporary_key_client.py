# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IamClient.create_temporary_key against the local server: both methods, both kinds of caller, and
a temporary key signing every other call (the server refuses it unless X-Security-Token is sent
and signed)."""

from __future__ import annotations

import pytest

from ansible_collections.keywarden.iam.plugins.module_utils import _errors as errors
from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._connection import settings_from_params

ADMIN_KEY = {"access_key": "CVKK734506UOYW5P4XW2", "secret_key": "8iXmKEWTu6IAMHt0vln3mwV3rRFpNLTRrsogxD1X"}
ADMIN_PASSWORD = {"auth_username": "admin", "auth_password": "Admin-Demo-Passw0rd",
                  "auth_domain_name": "keywarden-demo"}
DOMAIN = {"domain_id": "c49760f83a274c19af982f4278e7576b"}


def client(iam, **auth) -> IamClient:
    return IamClient(settings_from_params({"iam_endpoint": iam.url, "retries": 0, **auth}))


def signed_with(iam, key) -> IamClient:
    return client(iam, access_key=key.access_key_id, secret_key=key.secret_access_key,
                  security_token=key.security_token)


def test_agency_method_signed_with_an_access_key_sends_no_token(iam):
    iam.reset_counters()
    caller = client(iam, **ADMIN_KEY)
    key = caller.create_temporary_key(duration_seconds=900, agency_name="ops-agency", agency_domain=DOMAIN,
                                      session_user="ci")
    assert "create_token" not in iam.counters()["by_operation"]
    stored = next(k for k in iam.state()["temporary_keys"] if k["access"] == key.access_key_id)
    assert stored["agency_id"] and stored["session_name"] == "ci"


def test_agency_method_with_a_password_sends_the_token(iam):
    iam.reset_counters()
    caller = client(iam, **ADMIN_PASSWORD)
    key = caller.create_temporary_key(duration_seconds=1800, agency_name="ops-agency",
                                      agency_domain={"domain_name": "keywarden-demo"})
    assert iam.counters()["by_operation"].get("create_token") == 1
    assert key.expires_at is not None


def test_token_method_refuses_an_access_key_without_asking_the_server(iam):
    iam.reset_counters()
    with pytest.raises(errors.BadRequest, match="needs password authentication"):
        client(iam, **ADMIN_KEY).create_temporary_key(duration_seconds=900)
    assert iam.counters()["total"] == 0


def test_a_temporary_key_manages_permanent_keys(iam):
    temporary = client(iam, **ADMIN_PASSWORD).create_temporary_key(duration_seconds=900)
    session = signed_with(iam, temporary)
    bob = iam.user("bob")["id"]
    new = session.create_key(bob, "made with a temporary key")
    assert session.update_key(new.key.access_key_id, status="inactive").status == "inactive"
    session.delete_key(new.key.access_key_id)
    assert new.key.access_key_id not in {k["access"] for k in iam.keys_of("bob")}


def test_an_expired_temporary_key_gets_the_documented_error(iam):
    temporary = client(iam, **ADMIN_PASSWORD).create_temporary_key(duration_seconds=900)
    iam.advance_clock(seconds=901)
    with pytest.raises(errors.SecurityTokenExpired) as raised:
        signed_with(iam, temporary).list_keys()
    assert raised.value.code == "IAM.1108" and raised.value.status == 400
    assert "security token has expired" in raised.value.message
    assert "keywarden.iam.temporary_access_key" in raised.value.message


def test_an_unknown_agency_is_hinted_at_as_an_agency(iam):
    """Issue 14: the hint said "Check the user id, user name or access key id"."""
    with pytest.raises(errors.NotFound) as caught:
        client(iam, **ADMIN_KEY).create_temporary_key(duration_seconds=900, agency_name="no-such-agency",
                                                      agency_domain=DOMAIN)
    message = caught.value.message
    assert message.startswith("Failed to obtain a temporary access key for agency 'no-such-agency': not found "
                              "(HTTP 404: Could not find agency: no-such-agency of account")
    assert message.endswith("Check agency_name and the agency's account: agency_domain_id or agency_domain_name "
                            "(without them, the caller's own account).")
    assert "user id" not in message


def test_an_agency_that_does_not_trust_the_caller_says_so(iam):
    bob = {"access_key": "AGR8TBVH47YCZV10V76F", "secret_key": "8JaAiBSnmW7wim38GmtdnjabKQk3oARRRUOqPs7Y"}
    with pytest.raises(errors.Forbidden) as caught:
        client(iam, **bob).create_temporary_key(duration_seconds=900, agency_name="ops-agency", agency_domain=DOMAIN)
    assert caught.value.message.endswith(
        "The agency must trust the caller: in the agency's account, its trust relationship (delegated account or "
        "user) must name the calling user or its account, and the caller needs the right to assume it.")
    assert "Security Administrator" not in caught.value.message


@pytest.mark.parametrize("method", ["token", "agency"])
def test_a_lost_securitytokens_answer_does_not_claim_the_endpoint_was_unreachable(iam, method):
    """Issue 14: the message ended in "could not reach <endpoint>" although the request had arrived."""
    iam.inject_fault("create_security_token", "drop_after_commit")
    agency = {"agency_name": "ops-agency", "agency_domain": DOMAIN} if method == "agency" else {}
    with pytest.raises(errors.AnswerLost) as caught:
        client(iam, **ADMIN_PASSWORD).create_temporary_key(duration_seconds=900, **agency)
    message = caught.value.message
    what = "obtain a temporary access key" + (" for agency 'ops-agency'" if agency else "")
    assert message == (
        f"Failed to {what}: the connection to {iam.url} closed before an answer came (Remote end closed connection "
        "without response). The request reached the endpoint, but its answer was lost on the way back (a proxy, a "
        "load balancer or the network). A temporary key it may have issued is unused and expires by itself: run "
        "the task again.")
    assert iam.counters()["by_operation"]["create_security_token"] == 1  # it did arrive
