# Shared by the scripts in this folder: `source scripts/lib.sh`.

# The virtualenvs live in $GU1_VENV_DIR (default .venv, git-ignored).
GU1_VENV_DIR=${GU1_VENV_DIR:-$PWD/.venv}

# venv NAME: makes sure $GU1_VENV_DIR/NAME holds exactly the pinned
# scripts/requirements/NAME.txt (reinstalled when that file changes) and
# prints the venv's path.
venv() {
    local name=$1 dir="$GU1_VENV_DIR/$1" req="scripts/requirements/$1.txt"
    if ! cmp -s "$req" "$dir/.installed-requirements" 2>/dev/null; then
        echo "installing $name into $dir (pinned in $req)" >&2
        rm -rf "$dir"
        python3 -m venv "$dir"
        "$dir/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
        cp "$req" "$dir/.installed-requirements"
    fi
    echo "$dir"
}

# free_port: a free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_http URL [TRIES]: polls URL until it answers (10 s by default).
wait_for_http() {
    local url=$1 tries=${2:-100}
    for ((i = 0; i < tries; i++)); do
        curl -s -o /dev/null "$url" && return 0
        sleep 0.1
    done
    echo "nothing answered at $url" >&2
    return 1
}

# start_moto PORT: starts the emulator on 127.0.0.1:PORT in the background
# (PID in MOTO_PID) and waits until it answers.
start_moto() {
    local moto
    moto=$(venv moto)
    "$moto/bin/python" tests/it/support/moto_server.py 127.0.0.1 "$1" >/dev/null 2>&1 &
    MOTO_PID=$!
    wait_for_http "http://127.0.0.1:$1/moto-api/"
}

# start_ministack PORT DIR: starts MiniStack (the AWS emulator the deploy test
# deploys the SAM stack to) on 127.0.0.1:PORT in the background, in its own
# process group (PID in MINISTACK_PID; `kill -- -$MINISTACK_PID` also stops
# the functions it spawned), logging to DIR/ministack.log, and waits until it
# answers. IAM is enforced (AUTH=true) and the state is fresh and in memory.
# Its environment is empty but for what it needs: the functions it spawns
# inherit it, and must see only what Lambda would give them plus
# AWS_ENDPOINT_URL, through which their SDK calls come back to the emulator.
start_ministack() {
    local port=$1 dir=$2 ministack
    ministack=$(venv ministack)
    mkdir -p "$dir/ministack-state"
    setsid env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$dir" TMPDIR="$dir" LANG=C.UTF-8 \
        BIND_HOST=127.0.0.1 GATEWAY_PORT="$port" AUTH=true LAMBDA_EXECUTOR=local \
        PERSIST_STATE=0 STATE_DIR="$dir/ministack-state" \
        AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_DEFAULT_REGION=us-east-1 \
        AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
        "$ministack/bin/ministack" >"$dir/ministack.log" 2>&1 &
    MINISTACK_PID=$!
    wait_for_http "http://127.0.0.1:$port/_ministack/health" 300
}

# crate_version: the package version in Cargo.toml (what `--version` prints).
crate_version() {
    sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1
}
