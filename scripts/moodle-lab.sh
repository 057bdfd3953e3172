#!/usr/bin/env bash
# A real Moodle 4.5 on loopback, for the contract and end-to-end tests and for trying moodle_sync by hand.
#
#   scripts/moodle-lab.sh up [--source FILE] [--state-dir DIR] [--port N] [--fresh] [--env-file FILE]
#   scripts/moodle-lab.sh start|stop|status|env|reset   [--state-dir DIR] [--port N]
#   scripts/moodle-lab.sh php SCRIPT [ARGS...]           run a PHP CLI script as www-data with the lab's config
#   scripts/moodle-lab.sh task '\core\task\completion_regular_task'   run one scheduled task now
#
# `up` installs what is missing (Debian packages, as root), installs the site from a Moodle source tarball
# (--source; default ../shared/moodle-4.5/moodle-4.5.6.tar.xz when present; an official moodle-4.5.x download
# works the same), starts PostgreSQL, php-fpm, nginx, a mail catcher and cron on 127.0.0.1, and sets the site
# up exactly as README.md "Set up Moodle web services" tells an admin to: web services with REST and SOAP, a
# service holding the functions `moodle-sync doctor --requirements` lists, a dedicated non-admin tool user
# whose system role holds only the listed capabilities, its token, completion on, max_input_vars 5000,
# an Indonesian language pack, and the master course of every shipped template. It prints, for eval:
#   MOODLE_URL MOODLE_TOKEN MOODLE_LIMITED_TOKEN MOODLE_NOCAP_TOKEN MOODLE_ADMIN_TOKEN
#   MOODLE_LAB_DIR MOODLE_LAB_DB_URL MOODLE_LAB_MAILDIR
# Idempotent: a second `up` changes nothing and prints the same tokens. `--fresh` first restores the site as
# it was right after installation (a snapshot cached per source tarball under /var/cache/moodle-lab, so only
# the first install on a machine takes minutes). Nothing of Moodle's source is ever copied into this project.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
project=$(dirname "$here")
lab_php="$here/lab"

cmd=${1:-up}; [ $# -gt 0 ] && shift
source_tar=""
state_dir=${MOODLE_LAB_DIR:-/var/lib/moodle-lab}
port=${MOODLE_LAB_PORT:-8480}
fresh=0
env_file=""
cron_interval=${MOODLE_LAB_CRON_INTERVAL:-60}
php_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --source) source_tar=$2; shift 2 ;;
        --state-dir) state_dir=$2; shift 2 ;;
        --port) port=$2; shift 2 ;;
        --fresh) fresh=1; shift ;;
        --env-file) env_file=$2; shift 2 ;;
        --cron-interval) cron_interval=$2; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) php_args+=("$1"); shift ;;
    esac
done
if [ -z "$source_tar" ] && [ -f "$project/../shared/moodle-4.5/moodle-4.5.6.tar.xz" ]; then
    source_tar=$(cd "$project/../shared/moodle-4.5" && pwd)/moodle-4.5.6.tar.xz
fi

pg_port=$((port + 1))
smtp_port=$((port + 2))
www="$state_dir/www"          # the Moodle code (read-only for www-data)
dataroot="$state_dir/moodledata"
pgdata="$state_dir/pg"
run="$state_dir/run"
maildir="$state_dir/mail"
logs="$state_dir/log"
cache_root=${MOODLE_LAB_CACHE:-/var/cache/moodle-lab}
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
php=php8.2
fpm=/usr/sbin/php-fpm8.2
db_pass_file="$state_dir/db-password"
admin_pass_file="$state_dir/admin-password"

say() { printf 'moodle-lab: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
as_www() { MOODLE_LAB_WWW="$www" runuser -u www-data -- "$@"; }
as_pg() { runuser -u postgres -- "$@"; }
# A pid file's process is alive, and is still ours (a pid left from before a reboot may belong to another program).
alive() {
    [ -f "$1" ] || return 1
    local pid; pid=$(cat "$1")
    kill -0 "$pid" 2>/dev/null && grep -qaE "php-fpm|nginx|mailcatcher|bash|sleep" "/proc/$pid/cmdline" 2>/dev/null
}

# Moodle answers on the lab's address (python3 is there wherever this project runs; curl may not be).
answers() {
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' \
        "http://127.0.0.1:$port/login/index.php" >/dev/null 2>&1
}

need_root() { [ "$(id -u)" = 0 ] || die "run as root (it installs packages and runs services as www-data/postgres)"; }

install_packages() {
    local pkgs=(php8.2-fpm php8.2-cli php8.2-pgsql php8.2-xml php8.2-mbstring php8.2-curl php8.2-zip php8.2-gd
                php8.2-intl php8.2-soap php8.2-opcache nginx postgresql)
    local missing=()
    for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Debian's packages start their own services unless told not to: this lab runs its own on loopback.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d.moodle-lab
    local had_policy=0; [ -e /usr/sbin/policy-rc.d ] && had_policy=1
    [ $had_policy = 1 ] || install -m 0755 /usr/sbin/policy-rc.d.moodle-lab /usr/sbin/policy-rc.d
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ $had_policy = 1 ] || rm -f /usr/sbin/policy-rc.d
    rm -f /usr/sbin/policy-rc.d.moodle-lab
}

source_key() { sha256sum "$source_tar" | cut -c1-16; }

extract_source() {
    local key; key=$(source_key)
    if [ -f "$www/.source-key" ] && [ "$(cat "$www/.source-key")" = "$key" ]; then return 0; fi
    say "extracting $(basename "$source_tar") (about a minute)"
    rm -rf "$www.new" && mkdir -p "$www.new"
    tar -xf "$source_tar" -C "$www.new"   # .tgz or .tar.xz: tar detects the compression
    local top; top=$(find "$www.new" -mindepth 2 -maxdepth 2 -name version.php -printf '%h\n' | head -n 1)
    [ -n "$top" ] || die "$source_tar holds no Moodle tree (no version.php)"
    [ -f "$top/config.php" ] && rm -f "$top/config.php"
    rm -rf "$www" && mv "$top" "$www" && rm -rf "$www.new"
    echo "$key" >"$www/.source-key"
    chown -R root:root "$www" && chmod -R a+rX,go-w "$www"
}

write_configs() {
    mkdir -p "$run" "$logs" "$maildir"
    chown www-data "$run" "$logs"
    chmod 0755 "$state_dir"
    cat >"$run/php-fpm.conf" <<EOF
[global]
pid = $run/php-fpm.pid
error_log = $logs/php-fpm.log
daemonize = yes
[moodle]
user = www-data
group = www-data
listen = $run/php-fpm.sock
listen.owner = www-data
listen.group = www-data
pm = dynamic
pm.max_children = 8
pm.start_servers = 3
pm.min_spare_servers = 2
pm.max_spare_servers = 4
request_terminate_timeout = 600
php_admin_value[max_input_vars] = 5000
php_admin_value[memory_limit] = 512M
php_admin_value[max_execution_time] = 600
php_admin_value[post_max_size] = 64M
php_admin_value[error_log] = $logs/php-error.log
php_admin_value[opcache.enable] = 1
php_admin_value[opcache.memory_consumption] = 256
php_admin_value[opcache.max_accelerated_files] = 20000
EOF
    cat >"$run/nginx.conf" <<EOF
pid $run/nginx.pid;
worker_processes 2;
user www-data;
error_log $logs/nginx-error.log;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    client_max_body_size 64m;
    client_body_temp_path $run/nginx-body;
    fastcgi_temp_path $run/nginx-fastcgi;
    proxy_temp_path $run/nginx-proxy;
    uwsgi_temp_path $run/nginx-uwsgi;
    scgi_temp_path $run/nginx-scgi;
    server {
        listen 127.0.0.1:$port;
        root $www;
        index index.php;
        location ~ [^/]\.php(/|\$) {
            fastcgi_split_path_info ^(.+\.php)(/.+)\$;
            fastcgi_index index.php;
            fastcgi_pass unix:$run/php-fpm.sock;
            include /etc/nginx/fastcgi_params;
            fastcgi_param PATH_INFO \$fastcgi_path_info;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_read_timeout 600;
        }
        location /dataroot/ { internal; alias $dataroot/; }
    }
}
EOF
}

start_postgres() {
    [ -n "$pgbin" ] || die "PostgreSQL is not installed"
    if [ ! -f "$pgdata/PG_VERSION" ]; then
        mkdir -p "$pgdata" && chown postgres:postgres "$pgdata" && chmod 0700 "$pgdata"
        local pwfile; pwfile=$(mktemp) && echo postgres >"$pwfile" && chown postgres "$pwfile"
        as_pg "$pgbin/initdb" -D "$pgdata" -A scram-sha-256 -U postgres --pwfile="$pwfile" -E UTF8 \
            --locale=C.UTF-8 >/dev/null
        rm -f "$pwfile"
    fi
    # A postmaster.pid left by a killed server (a reboot, kill -9) may name a pid another program has now:
    # then pg_ctl takes the server for running. Only a postgres process counts.
    if [ -f "$pgdata/postmaster.pid" ]; then
        local pgpid; pgpid=$(head -n 1 "$pgdata/postmaster.pid")
        [ "$(cat "/proc/$pgpid/comm" 2>/dev/null)" = postgres ] || rm -f "$pgdata/postmaster.pid"
    fi
    if ! as_pg "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
        as_pg "$pgbin/pg_ctl" -D "$pgdata" -w -l "$pgdata/server.log" \
            -o "-p $pg_port -k $pgdata -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=256MB" \
            start >/dev/null
    fi
    [ -f "$db_pass_file" ] || { head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$db_pass_file"; chmod 0600 "$db_pass_file"; }
    local pass; pass=$(cat "$db_pass_file")
    PGPASSWORD=postgres "$pgbin/psql" -qAt -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<EOF >/dev/null
SELECT 'CREATE ROLE moodle LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'moodle') \gexec
ALTER ROLE moodle PASSWORD '$pass';
SELECT 'CREATE DATABASE moodle OWNER moodle ENCODING ''UTF8'' TEMPLATE template0' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'moodle') \gexec
EOF
}

psql_admin() { PGPASSWORD=postgres "$pgbin/psql" -qAt -h 127.0.0.1 -p "$pg_port" -U postgres "$@"; }

site_installed() { [ -f "$www/config.php" ] && [ -f "$dataroot/.installed" ]; }

write_moodle_config() {
    local pass; pass=$(cat "$db_pass_file")
    cat >"$www/config.php" <<EOF
<?php  // moodle-lab: written by scripts/moodle-lab.sh
unset(\$CFG);
global \$CFG;
\$CFG = new stdClass();
\$CFG->dbtype    = 'pgsql';
\$CFG->dblibrary = 'native';
\$CFG->dbhost    = '127.0.0.1';
\$CFG->dbname    = 'moodle';
\$CFG->dbuser    = 'moodle';
\$CFG->dbpass    = '$pass';
\$CFG->prefix    = 'mdl_';
\$CFG->dboptions = ['dbport' => $pg_port];
\$CFG->wwwroot   = 'http://127.0.0.1:$port';
\$CFG->dataroot  = '$dataroot';
\$CFG->admin     = 'admin';
\$CFG->directorypermissions = 02777;
// Mail goes to the lab's catcher on loopback (one .eml file per message in $maildir).
\$CFG->smtphosts = '127.0.0.1:$smtp_port';
\$CFG->noreplyaddress = 'noreply@lab.moodle-sync.test';
require_once(__DIR__ . '/lib/setup.php');
EOF
    chown root:www-data "$www/config.php" && chmod 0640 "$www/config.php"
}

install_site() {
    site_installed && return 0
    local key; key=$(source_key)
    local cache="$cache_root/$key"
    mkdir -p "$dataroot" && chown www-data:www-data "$dataroot" && chmod 0770 "$dataroot"
    write_moodle_config
    if [ -f "$cache/moodle.dump" ]; then
        restore_snapshot
        return 0
    fi
    [ -f "$admin_pass_file" ] || { echo "Lab-$(head -c 9 /dev/urandom | base64 | tr -d '/+=')-1a" >"$admin_pass_file"; chmod 0600 "$admin_pass_file"; }
    say "installing Moodle (about 5 minutes on 2 cores; cached for the next time)"
    as_www $php -d max_input_vars=5000 "$www/admin/cli/install_database.php" --agree-license --lang=en \
        --fullname="moodle_sync lab" --shortname="lab" --adminuser=admin --adminpass="$(cat "$admin_pass_file")" \
        --adminemail=admin@lab.moodle-sync.test --supportemail=admin@lab.moodle-sync.test \
        >"$logs/install.log" 2>&1 || { tail -n 30 "$logs/install.log" >&2; die "the Moodle install failed (log: $logs/install.log)"; }
    touch "$dataroot/.installed"
    save_snapshot
}

save_snapshot() {
    local cache; cache="$cache_root/$(source_key)"
    mkdir -p "$cache" && chmod 0700 "$cache_root" "$cache"
    PGPASSWORD=$(cat "$db_pass_file") "$pgbin/pg_dump" -h 127.0.0.1 -p "$pg_port" -U moodle -Fc -f "$cache/moodle.dump.new" moodle
    tar -C "$dataroot" --exclude=./cache --exclude=./localcache --exclude=./sessions --exclude=./temp \
        --exclude=./trashdir -czf "$cache/moodledata.tgz.new" .
    cp "$admin_pass_file" "$cache/admin-password"
    mv "$cache/moodledata.tgz.new" "$cache/moodledata.tgz" && mv "$cache/moodle.dump.new" "$cache/moodle.dump"
}

restore_snapshot() {
    local cache; cache="$cache_root/$(source_key)"
    [ -f "$cache/moodle.dump" ] || die "no snapshot of a fresh install in $cache: run 'up' without --fresh first"
    say "restoring the freshly installed site from $cache"
    stop_web
    psql_admin -d postgres -c "DROP DATABASE IF EXISTS moodle WITH (FORCE)" >/dev/null
    psql_admin -d postgres -c "CREATE DATABASE moodle OWNER moodle ENCODING 'UTF8' TEMPLATE template0" >/dev/null
    PGPASSWORD=$(cat "$db_pass_file") "$pgbin/pg_restore" -h 127.0.0.1 -p "$pg_port" -U moodle -d moodle --no-owner "$cache/moodle.dump"
    find "$dataroot" -mindepth 1 -delete
    tar -C "$dataroot" -xzf "$cache/moodledata.tgz"
    chown -R www-data:www-data "$dataroot"
    cp "$cache/admin-password" "$admin_pass_file" && chmod 0600 "$admin_pass_file"
    find "$maildir" -name '*.eml' -delete 2>/dev/null || true
    rm -f "$state_dir/tokens.env"
    touch "$dataroot/.installed"
}

start_web() {
    write_configs
    alive "$run/php-fpm.pid" || $fpm -y "$run/php-fpm.conf" -c /etc/php/8.2/fpm/php.ini
    alive "$run/nginx.pid" || nginx -c "$run/nginx.conf" -e "$logs/nginx-error.log"
    if ! alive "$run/mailcatcher.pid"; then
        python3 "$lab_php/mailcatcher.py" --port "$smtp_port" --maildir "$maildir" >>"$logs/mailcatcher.log" 2>&1 &
        echo $! >"$run/mailcatcher.pid"
    fi
    for _ in $(seq 1 50); do
        answers && return 0
        sleep 0.2
    done
    die "Moodle does not answer on 127.0.0.1:$port (logs: $logs)"
}

start_cron() {
    [ "$cron_interval" -gt 0 ] || return 0
    alive "$run/cron.pid" && return 0
    ( while sleep "$cron_interval"; do as_www $php "$www/admin/cli/cron.php" --keep-alive=0 >>"$logs/cron.log" 2>&1 || true; done ) \
        </dev/null >/dev/null 2>&1 &
    echo $! >"$run/cron.pid"
}

stop_pid() { if alive "$1"; then kill "$(cat "$1")" 2>/dev/null || true; fi; rm -f "$1"; }

stop_web() {
    stop_pid "$run/cron.pid"
    if alive "$run/nginx.pid"; then nginx -c "$run/nginx.conf" -s stop 2>/dev/null || true; fi
    stop_pid "$run/php-fpm.pid"
    stop_pid "$run/mailcatcher.pid"
}

stop_all() {
    stop_web
    [ -n "$pgbin" ] && [ -f "$pgdata/PG_VERSION" ] && as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast stop >/dev/null 2>&1 || true
}

setup_site() {
    local requirements="$state_dir/requirements.json" masters="$state_dir/masters.json"
    (
        cd "$project" && . scripts/_venv.sh && ensure_venv >>"$logs/setup.log" 2>&1
        moodle-sync doctor --requirements --extra test-data --extra report-builder --json >"$requirements.new"
        python -c 'import json; from moodle_sync.sandbox.seed import MASTERS
print(json.dumps([{"idnumber": i, "fullname": f, "topics": t} for i, f, t in MASTERS]))' >"$masters.new"
    ) || die "could not read the requirements from moodle-sync"
    mv "$requirements.new" "$requirements" && mv "$masters.new" "$masters" && chmod 0644 "$requirements" "$masters"
    as_www $php -d max_input_vars=5000 "$lab_php/setup.php" --requirements="$requirements" >"$state_dir/tokens.env.new" \
        2>>"$logs/setup.log" || { tail -n 20 "$logs/setup.log" >&2; die "site set-up failed (log: $logs/setup.log)"; }
    as_www $php "$lab_php/masters.php" --masters="$masters" >>"$logs/setup.log" 2>&1 \
        || { tail -n 20 "$logs/setup.log" >&2; die "the master courses could not be built (log: $logs/setup.log)"; }
    mv "$state_dir/tokens.env.new" "$state_dir/tokens.env" && chmod 0600 "$state_dir/tokens.env"
}

print_env() {
    [ -f "$state_dir/tokens.env" ] || die "the site is not set up yet: run 'up'"
    local out
    out=$(
        echo "export MOODLE_URL=http://127.0.0.1:$port"
        cat "$state_dir/tokens.env"
        echo "export MOODLE_LAB_DIR=$state_dir"
        echo "export MOODLE_LAB_PORT=$port"
        echo "export MOODLE_LAB_DB_URL=postgresql://moodle:$(cat "$db_pass_file")@127.0.0.1:$pg_port/moodle"
        echo "export MOODLE_LAB_MAILDIR=$maildir"
    )
    if [ -n "$env_file" ]; then
        (umask 077 && printf '%s\n' "$out" >"$env_file")
        say "settings written to $env_file"
    else
        printf '%s\n' "$out"
    fi
}

status() {
    local ok=0
    for name in php-fpm nginx mailcatcher cron; do
        if alive "$run/$name.pid"; then echo "$name: running"; else echo "$name: stopped"; ok=1; fi
    done
    if [ -n "$pgbin" ] && as_pg "$pgbin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then echo "postgresql: running (127.0.0.1:$pg_port)"; else echo "postgresql: stopped"; ok=1; fi
    if answers; then echo "moodle: http://127.0.0.1:$port"; else echo "moodle: not answering"; ok=1; fi
    return $ok
}

case "$cmd" in
    up)
        need_root
        [ -n "$source_tar" ] || die "no Moodle source: pass --source moodle-4.5.x.tgz (an official download works)"
        [ -f "$source_tar" ] || die "$source_tar does not exist"
        mkdir -p "$state_dir"
        install_packages
        extract_source
        write_configs
        start_postgres
        install_site
        [ $fresh = 1 ] && restore_snapshot
        start_web
        setup_site
        start_cron
        print_env
        ;;
    install) need_root; mkdir -p "$state_dir"; install_packages; extract_source; write_configs; start_postgres; install_site ;;
    start) need_root; write_configs; start_postgres; start_web; start_cron; status ;;
    stop) need_root; stop_all; say "stopped" ;;
    status) status ;;
    env) print_env ;;
    reset) need_root; start_postgres; restore_snapshot; start_web; setup_site; start_cron; print_env ;;
    php) need_root; [ ${#php_args[@]} -gt 0 ] || die "usage: moodle-lab.sh php SCRIPT [ARGS...]"
         as_www $php -d max_input_vars=5000 "${php_args[@]}" ;;
    task) need_root; [ ${#php_args[@]} -gt 0 ] || die "usage: moodle-lab.sh task '\\core\\task\\NAME'"
          as_www $php "$www/admin/cli/scheduled_task.php" --execute="${php_args[0]}" ;;
    *) die "unknown command $cmd (up, start, stop, status, env, reset, php, task)" ;;
esac
