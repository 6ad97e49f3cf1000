# Local PostgreSQL helpers for Scripts/test, Scripts/demo and Scripts/bench.
# Source this file; it defines functions and changes nothing by itself.
#
# initdb refuses to run as root, so when root runs these scripts the server
# runs as the 'postgres' system user (created by Debian's postgresql package).

pg_bindir() {
    local dir
    if [ -n "${DTLEDGER_PG_BINDIR:-}" ]; then echo "$DTLEDGER_PG_BINDIR"; return; fi
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$dir" ] && command -v initdb >/dev/null 2>&1; then dir=$(dirname "$(command -v initdb)"); fi
    if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
        echo "error: PostgreSQL server binaries not found; install them: apt-get install -y postgresql" >&2
        return 1
    fi
    echo "$dir"
}

# Runs a command as the server's user: postgres when we are root, else us.
pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        if ! id postgres >/dev/null 2>&1; then
            echo "error: running as root needs the 'postgres' user (apt-get install -y postgresql)" >&2
            return 1
        fi
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# pg_init DATADIR: a new cluster whose superuser is 'dtledger', trusting local
# connections (a throwaway or developer database on this machine only).
pg_init() {
    local datadir=$1 bindir
    bindir=$(pg_bindir) || return 1
    mkdir -p "$datadir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$datadir"; fi
    chmod 700 "$datadir"
    pg_as_owner "$bindir/initdb" -D "$datadir" -U dtledger --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$datadir.initdb.log" 2>&1 || { cat "$datadir.initdb.log" >&2; return 1; }
}

# pg_start DATADIR SOCKETDIR PORT LISTEN [extra -c settings...]
pg_start() {
    local datadir=$1 socketdir=$2 port=$3 listen=$4 bindir options
    shift 4
    bindir=$(pg_bindir) || return 1
    mkdir -p "$socketdir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$socketdir"; fi
    chmod 755 "$socketdir"
    options="-c listen_addresses='$listen' -c port=$port -c unix_socket_directories='$socketdir' -c max_connections=200"
    for setting in "$@"; do options="$options -c $setting"; done
    pg_as_owner "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w -t 60 -o "$options" start >/dev/null \
        || { tail -n 20 "$datadir/server.log" >&2; return 1; }
}

pg_stop() {
    local datadir=$1 bindir
    bindir=$(pg_bindir) || return 1
    pg_as_owner "$bindir/pg_ctl" -D "$datadir" -m fast -w stop >/dev/null 2>&1 || true
}

pg_running() {
    local datadir=$1 bindir
    bindir=$(pg_bindir) || return 1
    pg_as_owner "$bindir/pg_ctl" -D "$datadir" status >/dev/null 2>&1
}

# Fails with a clear message when swift or libpq's headers are missing.
require_build_tools() {
    command -v swift >/dev/null 2>&1 || { echo "error: swift not found on PATH" >&2; return 1; }
    [ -f /usr/include/postgresql/libpq-fe.h ] || {
        echo "error: libpq headers missing; install them: apt-get install -y libpq-dev" >&2; return 1; }
}

# Installs the Debian packages the tests need when they are missing:
# PostgreSQL's server, libpq's headers, and Chromium (the HTML report test
# opens the report in headless Chromium). As root it installs them; as
# another user it says what to install.
ensure_packages() {
    local need=()
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
    [ -f /usr/include/postgresql/libpq-fe.h ] || need+=(libpq-dev)
    for want in "$@"; do
        case "$want" in
            chromium) command -v chromium >/dev/null 2>&1 || need+=(chromium) ;;
            curl) command -v curl >/dev/null 2>&1 || need+=(curl) ;;
            # MailTests' independent DKIM oracle (dkimpy from PyPI, in a venv).
            venv) python3 -c "import ensurepip, venv" >/dev/null 2>&1 || need+=(python3-venv) ;;
        esac
    done
    [ ${#need[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ]; then
        echo "==> installing ${need[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "error: missing packages: ${need[*]}; install them with: sudo apt-get install -y ${need[*]}" >&2
        return 1
    fi
}
