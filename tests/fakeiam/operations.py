"""The names of the API operations, shared by routing, faults and counters."""

from __future__ import annotations

CREATE_CREDENTIAL = "create_credential"
LIST_CREDENTIALS = "list_credentials"
SHOW_CREDENTIAL = "show_credential"
UPDATE_CREDENTIAL = "update_credential"
DELETE_CREDENTIAL = "delete_credential"
LIST_USERS = "list_users"
SHOW_USER = "show_user"
LIST_DOMAINS = "list_domains"
CREATE_TOKEN = "create_token"
CREATE_SECURITY_TOKEN = "create_security_token"
CALLER_IDENTITY = "caller_identity"

ALL = frozenset({
    CREATE_CREDENTIAL, LIST_CREDENTIALS, SHOW_CREDENTIAL, UPDATE_CREDENTIAL, DELETE_CREDENTIAL,
    LIST_USERS, SHOW_USER, LIST_DOMAINS, CREATE_TOKEN, CREATE_SECURITY_TOKEN, CALLER_IDENTITY,
})
# What "writes" counts: the calls that change keys (a benchmark's measure of API churn).
WRITES = frozenset({CREATE_CREDENTIAL, UPDATE_CREDENTIAL, DELETE_CREDENTIAL, CREATE_SECURITY_TOKEN})
