"""Stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test creates each sanity test's virtual environment without pip, then runs a get-pip
script fetched from ci-files.testing.ansible.com to install pip and its pinned packages. That
host is out of reach here (only package registries are), so tools/ansible-test-sanity.sh puts
this file where ansible-test caches the download. It does the same job with the standard
library's ensurepip and then pip itself, taking the same arguments as get-pip.py.
"""

import subprocess
import sys

# get-pip.py options that plain `pip install` does not know.
GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}

# In a child process: ensurepip sets PIP_CONFIG_FILE=/dev/null in its own environment, which
# would hide the machine's pip configuration (index, CA bundle) from the install below.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
arguments = [argument for argument in sys.argv[1:] if argument not in GET_PIP_ONLY_OPTIONS]
subprocess.check_call([sys.executable, "-m", "pip", "install", *arguments])
