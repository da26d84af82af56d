"""What AWX and Automation Platform do with a credential type, reproduced for the tests.

``inject`` follows ``inject_credential`` of awx-plugins-core (``awx_plugins.interfaces``,
``injectors.py``), which AWX runs for every credential of a job: the inputs become the namespace of
an ``ImmutableSandboxedEnvironment``; empty inputs are left out of it (so they render as ''); boolean
fields default to false; every ``file`` template is rendered into a file of its own under
``<private_data_dir>/env`` with mode 0600, and ``tower.filename`` names it (``tower.filename.<name>``
with the multi-file syntax) for the ``env`` and ``extra_vars`` templates that follow; env names
of AWX's block list are dropped; ``extra_vars`` go into a file passed as ``-e @file``.

The one difference: AWX passes the in-container path (``/runner/env/tmpXXXX``) of a file, here the
file's real path, since the tests run ansible-playbook without a container.

``check_definition`` applies the checks AWX makes when a credential type is created
(``CredentialTypeInputField`` and ``CredentialTypeInjectorField`` of awx/main/fields.py), so that a
definition these tests accept is one AWX accepts.

``openstack_builtin`` is AWX's own OpenStack credential (``_openstack_data`` and ``openstack`` of
awx-plugins-core's builtin injectors): a clouds.yaml with one entry, ``devstack``, named only by
OS_CLIENT_CONFIG_FILE.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path
from types import SimpleNamespace

import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

ENV_BLOCKLIST = frozenset({
    "VIRTUAL_ENV", "PATH", "PYTHONPATH", "JOB_ID", "INVENTORY_ID", "INVENTORY_SOURCE_ID", "INVENTORY_UPDATE_ID",
    "AD_HOC_COMMAND_ID", "REST_API_URL", "REST_API_TOKEN", "MAX_EVENT_RES", "CALLBACK_QUEUE", "CALLBACK_CONNECTION",
    "CACHE", "JOB_CALLBACK_DEBUG", "INVENTORY_HOSTVARS", "AWX_HOST", "PROJECT_REVISION", "SUPERVISOR_CONFIG_PATH",
})
_FIELD_ID = re.compile(r"^[a-zA-Z_]+[a-zA-Z0-9_]*$")
_FIELD_TYPES = {"string", "boolean"}
_FIELD_KEYS = {"id", "type", "label", "help_text", "secret", "multiline", "choices", "format", "default",
               "ask_at_runtime"}


class TowerNamespace(SimpleNamespace):
    filename: object = None


def check_definition(definition: dict) -> None:
    """Raise AssertionError where AWX would refuse the credential type."""
    assert set(definition) <= {"name", "description", "kind", "inputs", "injectors"}, sorted(definition)
    assert definition["kind"] in ("cloud", "net"), "custom credential types are of kind cloud or net"
    inputs, injectors = definition["inputs"], definition["injectors"]
    assert set(inputs) <= {"fields", "required"}
    ids = []
    for field in inputs["fields"]:
        assert set(field) <= _FIELD_KEYS, field
        assert _FIELD_ID.match(field["id"]) and field["id"] not in ids, field["id"]
        assert field.get("type", "string") in _FIELD_TYPES and field.get("label"), field
        assert field["id"] != "tower", "tower is reserved"
        ids.append(field["id"])
    assert set(inputs.get("required", [])) <= set(ids)
    assert set(injectors) <= {"file", "env", "extra_vars"}
    templates = [name for name in injectors.get("file", {}) if name.startswith("template")]
    assert not ("template" in templates and len(templates) > 1), "single and multi-file syntax mixed"
    for name in injectors.get("env", {}):
        assert _FIELD_ID.match(name), name
    # Every template renders with every field defined, and uses no field that is not.
    namespace: dict = {field_id: "EXAMPLE" for field_id in ids}
    tower = TowerNamespace()
    tower.filename = "EXAMPLE_FILENAME" if "template" in templates else SimpleNamespace(
        **{name.split(".", 1)[1]: "EXAMPLE_FILENAME" for name in templates})
    namespace["tower"] = tower
    strict = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for kind in ("file", "env"):
        for template in injectors.get(kind, {}).values():
            strict.from_string(template).render(**namespace)


def inject(definition: dict, inputs: dict, private_data_dir: Path) -> tuple[dict, list]:
    """(environment variables, extra ansible-playbook arguments) for a credential with ``inputs``."""
    injectors = definition["injectors"]
    fields = definition["inputs"]["fields"]
    tower = TowerNamespace()
    namespace: dict = {"tower": tower}
    for name, value in inputs.items():
        if isinstance(value, bool) or value:  # AWX: booleans always, other values when not empty
            namespace[name] = value
    for field in fields:
        if field.get("type") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    sandbox = ImmutableSandboxedEnvironment()
    env_dir = private_data_dir / "env"
    env_dir.mkdir(parents=True, exist_ok=True)
    single = None
    several = {}
    for label, template in injectors.get("file", {}).items():
        data = sandbox.from_string(template).render(**namespace)
        path = tempfile.mkstemp(dir=env_dir)[1]
        with open(path, "w") as handle:
            handle.write(data)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if "." not in label:
            single = path
        else:
            several[label.split(".", 1)[1]] = path
    tower.filename = single or SimpleNamespace(**several)
    env = {}
    for name, template in injectors.get("env", {}).items():
        if name in ENV_BLOCKLIST:
            continue
        env[name] = sandbox.from_string(template).render(**namespace)
    args = []
    extra_vars = _render_extra_vars(sandbox, namespace, injectors.get("extra_vars", {}))
    if extra_vars:
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as out:
            out.write(yaml.safe_dump(extra_vars))
        os.chmod(path, stat.S_IRUSR)
        args += ["-e", f"@{path}"]
    return env, args


def _render_extra_vars(sandbox, namespace, node):
    if isinstance(node, dict):
        return {str(_render_extra_vars(sandbox, namespace, key)): _render_extra_vars(sandbox, namespace, value)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_render_extra_vars(sandbox, namespace, item) for item in node]
    return sandbox.from_string(node).render(**namespace)


def openstack_builtin(inputs: dict, private_data_dir: Path) -> dict:
    """The environment AWX's built-in OpenStack credential gives a job."""
    auth = {"auth_url": inputs.get("host", ""), "username": inputs.get("username", ""),
            "password": inputs.get("password", ""), "project_name": inputs.get("project", "")}
    if "project_domain_name" in inputs:
        auth["project_domain_name"] = inputs["project_domain_name"]
    if "domain" in inputs:
        auth["domain_name"] = inputs["domain"]
    data = {"clouds": {"devstack": {"auth": auth, "verify": bool(inputs.get("verify_ssl", True))}}}
    if "region" in inputs:
        data["clouds"]["devstack"]["region_name"] = inputs["region"]
    env_dir = private_data_dir / "env"
    env_dir.mkdir(parents=True, exist_ok=True)
    handle, path = tempfile.mkstemp(dir=env_dir)
    with os.fdopen(handle, "w") as out:
        yaml.safe_dump(data, out, default_flow_style=False, allow_unicode=True)
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return {"OS_CLIENT_CONFIG_FILE": path}
