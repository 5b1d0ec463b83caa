# Shared by scripts/ha-up, ha-down and ha-status (sourced, not run): where the local test cluster
# lives, its ports, and how its processes are started and recognised.
#
#   LINLI_HA_DIR        everything of the cluster (configs, data, logs, pids): /tmp/linli-ha
#   LINLI_HA_PORT_BASE  PostgreSQL members on base+1..3, their Patroni REST APIs on base+11..13,
#                       etcd's client port base+20 and peer port base+21: 25430
#   LINLI_HA_DATABASE   the database Linli uses, created if missing: postgres
#   LINLI_HA_PG_BIN     PostgreSQL 15's programs: /usr/lib/postgresql/15/bin
#   LINLI_HA_TIMEOUT    seconds ha-up waits for a healthy cluster: 120

ha_dir=${LINLI_HA_DIR:-/tmp/linli-ha}
ha_pg_bin=${LINLI_HA_PG_BIN:-/usr/lib/postgresql/15/bin}
ha_members=(member1 member2 member3)
ha_scope=linli

# The port base is the one the directory was made with: a different LINLI_HA_PORT_BASE is refused
# rather than starting a second cluster over the same data.
if [ -f "$ha_dir/ha.env" ]; then
    # shellcheck disable=SC1091
    ha_made_base=$(sed -n 's/^port_base=//p' "$ha_dir/ha.env")
    if [ -n "${LINLI_HA_PORT_BASE:-}" ] && [ "$LINLI_HA_PORT_BASE" != "$ha_made_base" ]; then
        echo "$ha_dir was made with LINLI_HA_PORT_BASE=$ha_made_base, not $LINLI_HA_PORT_BASE" >&2
        exit 2
    fi
    ha_base=$ha_made_base
    ha_database=$(sed -n 's/^database=//p' "$ha_dir/ha.env")
else
    ha_base=${LINLI_HA_PORT_BASE:-25430}
    ha_database=${LINLI_HA_DATABASE:-postgres}
fi
ha_etcd_port=$((ha_base + 20))
ha_etcd_peer_port=$((ha_base + 21))

ha_pg_port() { echo $((ha_base + ${1#member})); }
ha_rest_port() { echo $((ha_base + 10 + ${1#member})); }

ha_url() {
    local hosts=() m
    for m in "${ha_members[@]}"; do hosts+=("127.0.0.1:$(ha_pg_port "$m")"); done
    local IFS=,
    echo "postgresql://postgres@${hosts[*]}/$ha_database?target_session_attrs=read-write"
}

# PostgreSQL refuses to run as root: as root, the cluster runs as the postgres user.
if [ "$(id -u)" = 0 ]; then
    ha_user=postgres
    ha_home=$(getent passwd postgres | cut -d: -f6)
    ha_as_cmd=(setpriv --reuid=postgres --regid=postgres --init-groups env HOME="$ha_home")
else
    ha_user=$(id -un)
    ha_as_cmd=(env)
fi
ha_as() { "${ha_as_cmd[@]}" "$@"; }

# Whether the pid in file $1 is alive and its command line names $2 (a pid reused by another
# process is not ours).
ha_alive() {
    local pid
    [ -f "$1" ] || return 1
    pid=$(cat "$1")
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$2"
}

# The pid of the postmaster of data directory $1 when it runs, else nothing.
ha_postmaster() {
    local pid
    [ -f "$1/postmaster.pid" ] || return 0
    pid=$(head -n 1 "$1/postmaster.pid")
    if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] \
        && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$1"; then
        echo "$pid"
    fi
}

ha_patronictl() { patronictl -c "$ha_dir/patronictl.yml" "$@"; }
