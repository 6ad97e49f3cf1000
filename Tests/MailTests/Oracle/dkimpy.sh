#!/usr/bin/env bash
# MailTests' independent DKIM implementation: dkimpy from PyPI, used only by
# the tests (DKIMOracleTests). Installs dkimpy and PyNaCl (for ed25519) into
# a virtual environment on first use, then runs dkimpy_oracle.py.
#   dkimpy.sh check                      exit 0 when dkimpy can be installed/used
#   dkimpy.sh sign ALG C SEL DOMAIN KEY  < message > signed message
#   dkimpy.sh verify KEYFILE             < message ; prints pass or fail
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv="${DTLEDGER_DKIMPY_VENV:-${TMPDIR:-/tmp}/dtledger-dkimpy-venv}"
if ! "$venv/bin/python" -c "import dkim, nacl" 2>/dev/null; then
    {
        python3 -m venv "$venv" &&
            "$venv/bin/pip" install --quiet --disable-pip-version-check "dkimpy>=1.1" pynacl
    } >&2 || { echo "dkimpy.sh: cannot install dkimpy with pip" >&2; exit 3; }
fi
exec "$venv/bin/python" "$here/dkimpy_oracle.py" "$@"
