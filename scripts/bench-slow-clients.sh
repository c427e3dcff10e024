#!/bin/sh
# bench-slow-clients.sh [NCF] — the server under load while slow clients
# trickle bytes (docs/reliability.md): `ncf serve` on a small NeuMF, 1,100
# connections from 127.0.0.2 sending a request's header a byte a second, and
# at the same time `wrk -t2 -c32 -d30s` from 127.0.0.1 on /v1/recommend.
# Prints wrk's figures, how many slow connections the server held and
# closed, and the server's peak RSS. Loopback only; stops by itself.
set -eu
ncf=${1:-./ncf}
command -v wrk >/dev/null || { echo "bench-slow-clients.sh: needs wrk (sh scripts/setup-deps.sh bench)" >&2; exit 1; }
dir=$(mktemp -d)
trap 'kill $srv 2>/dev/null || true; rm -rf "$dir"' EXIT
"$ncf" synth --out "$dir/d.tsv" --users 2000 --items 1500 >/dev/null
"$ncf" train --data "$dir/d.tsv" --epochs 1 --quiet --out "$dir/m.ncf" >/dev/null
port=$((20000 + $$ % 20000))
"$ncf" serve --model "$dir/m.ncf" --port "$port" >"$dir/serve.log" 2>&1 &
srv=$!
sleep 1
/usr/bin/python3 - "$port" >"$dir/slow.log" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
req = b"GET /v1/recommend?user=u1&k=10 HTTP/1.1\r\nHost: x\r\n"
socks = []
for _ in range(1100):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    socks.append(s)
t0, sent, closed = time.time(), 0, 0
while time.time() - t0 < 36:
    for s in socks:
        if s.fileno() < 0:
            continue
        try:
            s.send(req[sent % len(req):sent % len(req) + 1])
        except OSError:
            s.close()
            closed += 1
    sent += 1
    time.sleep(1)
print("slow clients: 1100 opened, %d closed by the server within 36 s" % closed)
PY
slow=$!
sleep 3
wrk -t2 -c32 -d30s --latency "http://127.0.0.1:$port/v1/recommend?user=u1&k=10" | sed -n '1,20p'
wait $slow || true
cat "$dir/slow.log"
echo "server peak RSS: $(grep VmHWM /proc/$srv/status | awk '{print $2, $3}')"
