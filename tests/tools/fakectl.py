#!/usr/bin/env python3
"""A hostile (or, in mode good, well-behaved) rtpprobed control server for the
probe's control-client tests (tests/hostile/ctlclient.sh). Python stdlib only.

    fakectl.py MODE DIR [--cert FILE --key FILE] [--names SAN] [--bind ADDR]
                        [--ports LO-HI]

HTTPS on ADDR (127.0.0.1) at a random free TCP port in LO-HI (44000-45999),
with a certificate made by `openssl req -x509` when FILE does not exist yet
(subjectAltName SAN, default "DNS:rpct.test,IP:127.0.0.1"). Files in DIR:

    port            the TCP port, written (atomically) once it listens
    media_port      the UDP port of the fake session's media socket
    conns           accepted TCP connections so far (rewritten at each accept)
    requests.jsonl  one JSON line per request: connection number, method, path,
                    header lines, body (written before the answer leaves)

On SIGTERM/SIGINT it prints "fakectl: connections N requests M" and exits.

Modes (what the answer to the first request, the POST, looks like):
    trickle     a status line, then one byte every 0.5 s, for ever
    never       reads the request, never answers
    stall       accepts TCP, never does the TLS handshake
    bighead     a 1 MiB header line
    bigbody     201 with Content-Length 100 MiB, streamed
    badchunk    Transfer-Encoding: chunked with a chunk size that is no number
    nothttp     not HTTP at all (an SSH banner)
    crlfid      201 whose "id" holds CR LF and a header
    bigid       201 whose "id" has 5000 hex digits
    range-ssrc  201 with ssrc_up = 2^40
    range-port  201 with media_port = 70000
    range-float 201 with bitrate_bps = 1e300 (a float far beyond any integer)
    bitrate0    201 with bitrate_bps = 0
    nginx404    nginx's 404 HTML page
    escape      400 whose JSON "error" holds terminal escapes, CR LF and a
                forged Nagios line with '|'
    good        a whole well-formed session (201, 200 on PATCH peer, 200 with
                the final document on PATCH stop, 200 on DELETE), keep-alive
    rxgtsent    as good, but the final document has upstream received =
                the probe's upstream_sent + 7
    final-float as good, but the final document has 1e300 in the float figures
    patchnever  as good, but the PATCH peer is never answered
    stopnever   as good, but the PATCH stop is never answered
In every mode a POST to .../v1/reports (rtpprobe --push) is answered 204 (its
body is in requests.jsonl).
The session documents follow docs/control-api.md and src/contract.c (the key
tables the probe decodes with); the templates are copied from a real rtpprobed.
"""
import base64
import json
import os
import random
import secrets
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

MODES = ("trickle never stall bighead bigbody badchunk nothttp crlfid bigid range-ssrc range-port range-float "
         "bitrate0 nginx404 escape good rxgtsent final-float patchnever stopnever").split()
STUN_MAGIC = 0x2112A442

NGINX_404 = (b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
             b"<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n"
             b"</body>\r\n</html>\r\n")


def zero_counts(names):
    return {n: 0 for n in names}


def session_doc(s, state, up_sent, received, down_sent):
    """The session document as rtpprobed writes it (GET/PATCH/DELETE answer)."""
    lost = max(up_sent - received, 0) if up_sent else 0
    return {
        "id": s["id"], "codec": s["codec"], "ptime_ms": s["ptime_ms"], "bitrate_bps": s["bitrate_bps"],
        "duration_s": s["duration_s"], "jitter_buffer_ms": s["jitter_buffer_ms"], "media_port": s["media_port"],
        "state": state, "client": s["client"], "announced": s.get("announced"),
        "latched": s.get("announced") if received else None, "relatched": 0,
        "ssrc_up": s["ssrc_up"], "ssrc_down": s["ssrc_down"],
        "upstream": {
            "accepted": received, "sent_by_probe": up_sent, "received": received, "lost": lost,
            "loss_pct": round(100.0 * lost / up_sent, 3) if up_sent else 0.0,
            "duplicates": 0, "reordered": 0, "late": 0, "late_adaptive": 0,
            "jitter_buffer_mean_ms": 40.0 if received else 0.0, "jitter_buffer_max_ms": 40.0 if received else 0.0,
            "bursts": 0, "max_burst": 0, "burst_ratio": 1.0, "jitter_ms": 0.05 if received else 0.0,
            "jitter_mean_ms": 0.04 if received else 0.0,
            "ipdv_ms": {"p50": 0.0, "p95": 0.1, "p99": 0.2, "max": 0.3},
            "delay_ms": {"p50": 0.1, "p95": 0.2, "max": 0.3, "rise": 0.0},
            "wire_bytes": received * 216, "host_drops": 0,
            "dropped": zero_counts("bad_rtp wrong_ssrc wrong_pt bad_extension after_stop auth_failure replay "
                                   "oversized foreign_source".split()),
            "reply_only": False,
            "stun": zero_counts("answered malformed not_request too_small unknown_attribute rate".split()),
            "malformed": {
                "rtp": zero_counts("too_short bad_version bad_csrc bad_extension bad_padding".split()),
                "stun": zero_counts("too_short not_stun bad_length bad_attribute bad_fingerprint".split()),
            },
            "auth_failures": 0, "primed": 0,
        },
        "downstream": {"sent": down_sent, "skipped": 0, "wire_bytes": down_sent * 268, "send_errors": 0},
        "transport": "rtp", "cipher": None,
    }


def created_doc(s):
    """The POST answer (201), as rtpprobed writes it."""
    keys = ("id media_port ssrc_up ssrc_down pt clock_rate codec ptime_ms bitrate_bps duration_s "
            "jitter_buffer_ms transport client port_min port_max auth_key").split()
    return {k: s[k] for k in keys}


class Server:
    def __init__(self, mode, workdir, bind, ports, ctx):
        self.mode, self.dir, self.bind, self.ctx = mode, workdir, bind, ctx
        self.lock = threading.Lock()
        self.conns = 0
        self.requests = 0
        self.session = None
        self.udp = self._bind(socket.SOCK_DGRAM, ports)
        self.tcp = self._bind(socket.SOCK_STREAM, ports)
        self.tcp.listen(64)

    def _bind(self, kind, ports):
        s = socket.socket(socket.AF_INET, kind)
        if kind == socket.SOCK_STREAM:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lo, hi = ports
        for _ in range(200):
            try:
                s.bind((self.bind, random.randrange(lo, hi + 1)))
                return s
            except OSError:
                continue
        sys.exit("fakectl: no free port in %d-%d" % ports)

    def put(self, name, text):
        tmp = os.path.join(self.dir, "." + name + ".tmp")
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, os.path.join(self.dir, name))

    def record(self, conn_no, method, path, headers, body):
        with self.lock:
            self.requests += 1
            with open(os.path.join(self.dir, "requests.jsonl"), "a") as f:
                f.write(json.dumps({"conn": conn_no, "method": method, "path": path, "headers": headers,
                                    "body": body.decode("utf-8", "replace")}) + "\n")

    # ---- media socket: answers STUN Binding requests, swallows the rest
    def stun_loop(self):
        while True:
            data, peer = self.udp.recvfrom(4096)
            if len(data) < 20 or data[0:2] != b"\x00\x01" or struct.unpack("!I", data[4:8])[0] != STUN_MAGIC:
                continue
            ip = struct.unpack("!I", socket.inet_aton(peer[0]))[0]
            attr = struct.pack("!HHBBHI", 0x0020, 8, 0, 1, peer[1] ^ (STUN_MAGIC >> 16), ip ^ STUN_MAGIC)
            self.udp.sendto(struct.pack("!HH", 0x0101, len(attr)) + data[4:20] + attr, peer)

    def serve_forever(self):
        threading.Thread(target=self.stun_loop, daemon=True).start()
        self.put("media_port", "%d\n" % self.udp.getsockname()[1])
        self.put("port", "%d\n" % self.tcp.getsockname()[1])
        while True:
            raw, peer = self.tcp.accept()
            with self.lock:
                self.conns += 1
                n = self.conns
                self.put("conns", "%d\n" % n)
            threading.Thread(target=self.connection, args=(raw, peer, n), daemon=True).start()

    # ---- one TCP connection
    def connection(self, raw, peer, conn_no):
        try:
            if self.mode == "stall":
                wait_closed(raw)
                return
            tls = self.ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            return
        try:
            self.requests_on(tls, peer, conn_no)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def requests_on(self, tls, peer, conn_no):
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                if len(buf) > 65536:
                    return
                chunk = tls.recv(65536)
                if not chunk:
                    return
                buf += chunk
            head, buf = buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, path = (lines[0].split(" ") + ["", ""])[:2]
            headers = lines[1:]
            hmap = {}
            for h in headers:
                k, _, v = h.partition(":")
                hmap[k.strip().lower()] = v.strip()
            clen = int(hmap.get("content-length", "0") or 0)
            while len(buf) < clen:
                chunk = tls.recv(65536)
                if not chunk:
                    return
                buf += chunk
            body, buf = buf[:clen], buf[clen:]
            self.record(conn_no, method, path, headers, body)
            close = hmap.get("connection", "").lower() == "close"
            if not self.answer(tls, peer, method, path, body, close) or close:
                return

    def send(self, tls, status, body, ctype="application/json", extra="", close=False):
        if isinstance(body, (dict, list)):
            body = (json.dumps(body, separators=(",", ":")) + "\n").encode()
        head = "HTTP/1.1 %s\r\n%sContent-Type: %s\r\nCache-Control: no-store\r\nContent-Length: %d\r\n%s\r\n" % (
            status, extra, ctype, len(body), "Connection: close\r\n" if close else "")
        tls.sendall(head.encode() + body)

    def new_session(self, peer, body):
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            req = {}
        media_port = self.udp.getsockname()[1]
        s = {
            "id": secrets.token_hex(16), "media_port": media_port,
            "ssrc_up": random.getrandbits(32), "ssrc_down": random.getrandbits(32), "pt": 0, "clock_rate": 8000,
            "codec": req.get("codec", "pcmu"), "ptime_ms": req.get("ptime_ms", 20),
            "bitrate_bps": req.get("bitrate_bps", 64000), "duration_s": req.get("duration_s", 10),
            "jitter_buffer_ms": req.get("jitter_buffer_ms", 40), "transport": "rtp",
            "client": "%s:%d" % peer, "port_min": 44000, "port_max": 45999,
            "auth_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
        if s["codec"] == "pcma":
            s["pt"] = 8
        elif s["codec"] == "opus":
            s["pt"], s["clock_rate"] = 111, 48000
        return s

    def answer(self, tls, peer, method, path, body, close):
        """Answers one request; False: close the connection."""
        mode = self.mode
        if method == "POST" and path.endswith("/v1/reports"):
            tls.sendall(b"HTTP/1.1 204 No Content\r\n%s\r\n" % (b"Connection: close\r\n" if close else b""))
            return True
        if method == "POST":
            return self.answer_post(tls, peer, body, close)
        s = self.session
        if s is None or path.rsplit("/", 1)[-1] != s["id"]:
            self.send(tls, "404 Not Found", {"error": "no such session", "status": 404}, close=close)
            return True
        req = {}
        try:
            req = json.loads(body) if body else {}
        except ValueError:
            pass
        if method == "PATCH" and "peer" in req:
            if mode == "patchnever":
                wait_closed(tls)
                return False
            s["announced"] = req["peer"]
            doc = session_doc(s, "sending", 0, 0, 0)
        elif method == "PATCH" and req.get("stop"):
            if mode == "stopnever":
                wait_closed(tls)
                return False
            sent = int(req.get("upstream_sent", 0))
            s["final"] = session_doc(s, "stopped", sent, sent + 7 if mode == "rxgtsent" else sent, 0)
            if mode == "final-float":
                up = s["final"]["upstream"]
                up["jitter_ms"] = up["jitter_mean_ms"] = 1e300
                up["ipdv_ms"] = {k: 1e300 for k in up["ipdv_ms"]}
                up["delay_ms"] = {k: 1e300 for k in up["delay_ms"]}
                up["jitter_buffer_mean_ms"] = up["jitter_buffer_max_ms"] = 1e300
            doc = s["final"]
        elif method in ("GET", "DELETE"):
            doc = s.get("final") or session_doc(s, "sending", 0, 0, 0)
        else:
            self.send(tls, "400 Bad Request", {"error": "nothing to change", "status": 400}, close=close)
            return True
        self.send(tls, "200 OK", doc, close=close)
        return True

    def answer_post(self, tls, peer, body, close):
        mode = self.mode
        s = self.new_session(peer, body)
        loc = "Location: /v1/sessions/%s\r\n" % s["id"]
        if mode == "trickle":
            tls.sendall(b"HTTP/1.1 201 Created\r\nX-Trickle: ")
            while True:
                time.sleep(0.5)
                tls.sendall(b"a")
        if mode == "never":
            wait_closed(tls)
            return False
        if mode == "bighead":
            tls.sendall(b"HTTP/1.1 201 Created\r\nX-Big: " + b"a" * (1 << 20) + b"\r\nContent-Length: 3\r\n\r\n{}\n")
            return False
        if mode == "bigbody":
            total = 100 << 20
            tls.sendall(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                        % total)
            chunk = b"[" * 65536
            for _ in range(total // len(chunk)):
                tls.sendall(chunk)
            return False
        if mode == "badchunk":
            doc = json.dumps(created_doc(s)).encode()
            tls.sendall(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"zz\r\n" + doc + b"\r\n0\r\n\r\n")
            return False
        if mode == "nothttp":
            tls.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
            wait_closed(tls)
            return False
        if mode == "escape":
            self.send(tls, "400 Bad Request",
                      {"error": "no\x1b[2J\x1b]0;owned\x07\r\nRTPPROBE OK - fine | up_loss=0%", "status": 400},
                      close=close)
            return True
        if mode == "nginx404":
            self.send(tls, "404 Not Found", NGINX_404, ctype="text/html", extra="Server: nginx/1.22.1\r\n",
                      close=close)
            return True
        doc = created_doc(s)
        if mode == "crlfid":
            doc["id"] = s["id"] + "\r\nX-Injected: yes"
        elif mode == "bigid":
            doc["id"] = "".join(random.choice("0123456789abcdef") for _ in range(5000))
        elif mode == "range-ssrc":
            doc["ssrc_up"] = 1 << 40
        elif mode == "range-port":
            doc["media_port"] = 70000
        elif mode == "range-float":
            doc["bitrate_bps"] = 1e300
        elif mode == "bitrate0":
            doc["bitrate_bps"] = 0
        else:
            self.session = s
        self.send(tls, "201 Created", doc, extra=loc, close=close)
        return True


def wait_closed(sock):
    """Reads (and drops) until the peer closes."""
    try:
        while sock.recv(65536):
            pass
    except (OSError, ssl.SSLError):
        pass


def make_cert(cert, key, names):
    cn = names.split(",")[0].split(":", 1)[1]
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=" + cn, "-addext", "subjectAltName=" + names,
                    "-keyout", key, "-out", cert], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    args = sys.argv[1:]
    if len(args) < 2 or args[0] not in MODES:
        sys.exit(__doc__)
    mode, workdir = args[0], args[1]
    opts = {"--cert": os.path.join(workdir, "cert.pem"), "--key": None, "--names": "DNS:rpct.test,IP:127.0.0.1",
            "--bind": "127.0.0.1", "--ports": "44000-45999"}
    rest = args[2:]
    while rest:
        if rest[0] not in opts or len(rest) < 2:
            sys.exit("fakectl: unknown option %s" % rest[0])
        opts[rest[0]] = rest[1]
        rest = rest[2:]
    cert = opts["--cert"]
    key = opts["--key"] or os.path.splitext(cert)[0] + ".key"
    if not os.path.exists(cert):
        make_cert(cert, key, opts["--names"])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    lo, hi = (int(x) for x in opts["--ports"].split("-"))
    srv = Server(mode, workdir, opts["--bind"], (lo, hi), ctx)

    def bye(signum, frame):
        sys.stdout.write("fakectl: connections %d requests %d\n" % (srv.conns, srv.requests))
        sys.stdout.flush()
        os._exit(0)
    signal.signal(signal.SIGTERM, bye)
    signal.signal(signal.SIGINT, bye)
    srv.serve_forever()


if __name__ == "__main__":
    main()
