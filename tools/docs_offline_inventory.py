"""Write a small Sphinx inventory (objects.inv) of docs.ansible.com labels, for an offline build.

The pages antsibull-docs generates refer to ansible-core's documentation (":ref:`common_return_values`",
":ref:`action_plugins`", the pages of ansible.builtin plugins named with M(), P(), ...). Sphinx
resolves such references through intersphinx, which downloads each project's objects.inv. This
network reaches no documentation host, so `make docs` points intersphinx at this local file
instead: the same labels, the same URLs on docs.ansible.com, no download.

It lists
- the ansible-core documentation labels antsibull-docs' templates use, and a few that guides use;
- every plugin of ansible.builtin, read from the installed ansible-core package, under the label
  antsibull-docs gives it (ansible_collections.ansible.builtin.<name>_<type>).
A reference to any other label fails the build (sphinx -W): add the label to LABELS below.

Usage: python tools/docs_offline_inventory.py OUTPUT
"""
from __future__ import annotations

import sys
import zlib
from pathlib import Path

import ansible

BASE = "https://docs.ansible.com/projects/ansible/devel/"

# label -> (page#anchor relative to BASE, title)
LABELS = {
    "common_return_values": ("reference_appendices/common_return_values.html#common-return-values",
                             "Return Values"),
    "action_plugins": ("plugins/action.html#action-plugins", "Action plugins"),
    "callback_plugins": ("plugins/callback.html#callback-plugins", "Callback plugins"),
    "ansible_configuration_settings": ("reference_appendices/config.html#ansible-configuration-settings",
                                       "Ansible Configuration Settings"),
    "collections_keyword": ("collections_guide/collections_using_playbooks.html#collections-keyword",
                            "Simplifying module names with the collections keyword"),
    "list_of_collections": ("collections/index.html#list-of-collections", "Collection Index"),
    "module_defaults": ("playbook_guide/playbooks_module_defaults.html#module-defaults",
                        "Module defaults"),
    "vault": ("vault_guide/index.html#vault", "Protecting sensitive data with Ansible vault"),
    "check_mode_dry": ("playbook_guide/playbooks_checkmode.html#check-mode-dry",
                       "Validating tasks: check mode and diff mode"),
}

# Plugin types of ansible.builtin and where ansible-core keeps their files. Filters and tests
# are documented one YAML file per name; the others one Python file per name.
PLUGIN_DIRS = {
    "module": ("modules", ".py"),
    "become": ("plugins/become", ".py"),
    "cache": ("plugins/cache", ".py"),
    "callback": ("plugins/callback", ".py"),
    "connection": ("plugins/connection", ".py"),
    "filter": ("plugins/filter", ".yml"),
    "inventory": ("plugins/inventory", ".py"),
    "lookup": ("plugins/lookup", ".py"),
    "shell": ("plugins/shell", ".py"),
    "strategy": ("plugins/strategy", ".py"),
    "test": ("plugins/test", ".yml"),
    "vars": ("plugins/vars", ".py"),
}


def builtin_plugins() -> list[tuple[str, str]]:
    root = Path(ansible.__file__).parent
    found = []
    for plugin_type, where in PLUGIN_DIRS.items():
        directory, suffix = where
        for path in sorted((root / directory).glob(f"*{suffix}")):
            name = path.name[: -len(suffix)]
            if name.startswith("_") or name == "__init__":
                continue
            found.append((name, plugin_type))
    return found


def entries() -> list[str]:
    lines = [f"{label} std:label -1 {uri} {title}" for label, (uri, title) in sorted(LABELS.items())]
    for name, plugin_type in builtin_plugins():
        label = f"ansible_collections.ansible.builtin.{name}_{plugin_type}"
        uri = f"collections/ansible/builtin/{name}_{plugin_type}.html#{label.replace('.', '-').replace('_', '-')}"
        lines.append(f"{label} std:label -1 {uri} ansible.builtin.{name} {plugin_type}")
    return lines


def main() -> None:
    output = Path(sys.argv[1])
    header = (
        "# Sphinx inventory version 2\n"
        "# Project: Ansible\n"
        "# Version: devel\n"
        "# The remainder of this file is compressed using zlib.\n"
    ).encode()
    body = ("\n".join(entries()) + "\n").encode()
    output.write_bytes(header + zlib.compress(body, 9))


if __name__ == "__main__":
    main()
