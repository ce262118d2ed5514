#!/usr/bin/python3
"""The pre-call page against a stub of the daemon's API, in headless Chromium.

usage: stub_check.py [--out-dir tests/out] [--only NAME]

A loopback HTTP server serves the page exactly as the daemon does (the bytes and
the Content-Security-Policy scripts/embed-precall makes) at /rtpprobe/precall, and
stubs /rtpprobe/v1/webrtc/...; tests/webrtc/precall_check.py drives the browser.
Checks: the page's own script runs under its CSP (no console error), the error
states say what to do, the offer carries Opus and PCMU in the asked order, the
synthetic signal is not silent, and (with an answer whose candidate is dead) the
stats are posted and the report is drawn. Prints ok/FAIL lines; exit 0 all
passed, 1 a check failed, 77 Chromium/selenium missing.
Run under flock /tmp/rtpprobe-suite.lock (it starts a browser and a server).
"""
import argparse
import http.server
import json
import pathlib
import re
import subprocess
import sys
import tempfile
import threading
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOKEN = "v1:4102444800:desk-7:stub-signature_AZaz09-"
failed = 0


def check(what, cond, detail=""):
    global failed
    if cond:
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}{': ' + str(detail)[:600] if detail else ''}")


def embedded_page(tmpdir):
    """The page and its CSP exactly as the daemon serves them (scripts/embed-precall)."""
    out = pathlib.Path(tmpdir) / "precall.html"
    csp = subprocess.run([str(ROOT / "scripts/embed-precall"), "--html", str(ROOT / "web"), str(out)],
                         capture_output=True, text=True, check=True).stdout.strip()
    return out.read_bytes(), csp


def answer_for(offer):
    """An ICE-lite answer the browser accepts whose only candidate never answers."""
    mid = re.search(r"^a=mid:(\S+)", offer, re.M)
    pt = re.search(r"^a=rtpmap:(\d+) opus/48000/2", offer, re.M)
    mid = mid.group(1) if mid else "0"
    pt = pt.group(1) if pt else "111"
    fp = ":".join(["AB"] * 32)
    lines = ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=ice-lite", f"a=group:BUNDLE {mid}",
             f"m=audio 9 UDP/TLS/RTP/SAVPF {pt}", "c=IN IP4 127.0.0.1", "a=rtcp-mux", f"a=mid:{mid}",
             "a=sendrecv", "a=ice-ufrag:stubufrag", "a=ice-pwd:stubpasswordstubpassword",
             f"a=fingerprint:sha-256 {fp}", "a=setup:passive", f"a=rtpmap:{pt} opus/48000/2",
             f"a=fmtp:{pt} minptime=10;useinbandfec=0", "a=ptime:20",
             "a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host", "a=end-of-candidates"]
    return "\r\n".join(lines) + "\r\n"


class Stub(http.server.ThreadingHTTPServer):
    page = b""
    csp = ""
    mode = "503"
    turn = False
    report = {}

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen = []


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json", extra=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def record(self, body=None):
        self.server.seen.append({"method": self.command, "path": self.path,
                                 "auth": self.headers.get("Authorization"), "body": body})

    def authorized(self):
        if self.headers.get("Authorization") == f"Bearer {TOKEN}":
            return True
        self.reply(401, {"error": "page token: bad_signature", "status": 401})
        return False

    def do_GET(self):
        self.record()
        if urllib.parse.urlsplit(self.path).path == "/rtpprobe/precall":
            self.reply(200, self.server.page, "text/html; charset=utf-8",
                       [("Content-Security-Policy", self.server.csp), ("X-Content-Type-Options", "nosniff"),
                        ("Referrer-Policy", "no-referrer")])
        elif self.path == "/rtpprobe/v1/webrtc/config":
            if self.authorized():
                ice = [{"urls": ["turn:127.0.0.1:9?transport=udp"], "username": "1:x", "credential": "y"}] \
                    if self.server.turn else []
                self.reply(200, {"ice_servers": ice, "duration": 4, "codecs": ["opus", "pcmu"]})
        else:
            self.reply(404, {"error": "not found", "status": 404})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        self.record(body)
        if not self.authorized():
            return
        if self.path == "/rtpprobe/v1/webrtc":
            if self.server.mode == "503":
                self.reply(503, {"error": "stub: no WebRTC sessions here", "status": 503})
            else:
                self.reply(201, {"id": "0123456789abcdef0123456789abcdef", "sdp": answer_for(body["sdp"]),
                                 "duration": body["duration"], "codec": body["codec"]})
        elif self.path == "/rtpprobe/v1/webrtc/0123456789abcdef0123456789abcdef/stats":
            self.reply(200, self.server.report)
        else:
            self.reply(404, {"error": "not found", "status": 404})


def drive(srv, out_dir, query="", token=TOKEN, name="precall-stub.png", timeout=60, extra=()):
    frag = f"#t={token}" if token is not None else ""
    url = f"http://127.0.0.1:{srv.server_address[1]}/rtpprobe/precall{query}{frag}"
    srv.seen = []
    p = subprocess.run([sys.executable, str(ROOT / "tests/webrtc/precall_check.py"), "--url", url,
                        "--out-dir", str(out_dir), "--screenshot", name, "--timeout", str(timeout), *extra],
                       capture_output=True, text=True, timeout=timeout + 60)
    if p.returncode == 77:
        print(p.stderr.strip())
        sys.exit(77)
    try:
        result = json.loads(p.stdout) if p.stdout.strip() else None
    except ValueError:
        result = None
    return p.returncode, result, p.stderr


def offered(sdp):
    """(payload types of the m-line in order, {pt: encoding})."""
    m = re.search(r"^m=audio \d+ \S+ ([\d ]+)", sdp, re.M)
    pts = m.group(1).split() if m else []
    names = dict(re.findall(r"^a=rtpmap:(\d+) (\S+)", sdp, re.M))
    return pts, names


def posts(srv, path):
    return [s for s in srv.seen if s["method"] == "POST" and s["path"] == path]


def case_503(srv, out):
    rc, res, err = drive(srv, out)
    check("503 on POST /v1/webrtc: error state (exit 1)", rc == 1, f"rc {rc}: {err}")
    check("the error says 503 and the host's message", "(503)" in err and "stub: no WebRTC sessions here" in err, err)
    check("no console error (the page's script and style pass its CSP)", "console errors" not in err, err)
    cfg = [s for s in srv.seen if s["path"] == "/rtpprobe/v1/webrtc/config"]
    check("GET config (relative to the page) with the Bearer token", cfg and cfg[0]["auth"] == f"Bearer {TOKEN}", srv.seen)
    rms = (res or {}).get("signalRms")
    check(f"the synthetic signal is not silent (RMS over 200 ms = {rms})", isinstance(rms, (int, float)) and rms > 1e-4)
    po = posts(srv, "/rtpprobe/v1/webrtc")
    check("one POST /v1/webrtc", len(po) == 1, srv.seen)
    if not po:
        return
    body = po[0]["body"]
    check("POST body: exactly sdp, codec, duration (no agent asked)", sorted(body) == ["codec", "duration", "sdp"], body)
    check("codec opus, duration from the config (4)", body.get("codec") == "opus" and body.get("duration") == 4, body)
    pts, names = offered(body.get("sdp", ""))
    encs = [names.get(p, "?").lower() for p in pts]
    check(f"the offer's m-line: opus first, then PCMU, nothing else ({encs})",
          encs == ["opus/48000/2", "pcmu/8000"], encs)
    check("the offer carries the browser's fingerprint and ICE credentials",
          "a=fingerprint:" in body["sdp"] and "a=ice-ufrag:" in body["sdp"])
    check("no request the page should not make",
          all(s["path"].startswith("/rtpprobe/") for s in srv.seen), [s["path"] for s in srv.seen])


def case_pcmu(srv, out):
    rc, _, err = drive(srv, out, "?codec=pcmu&duration=3&agent=desk-7")
    po = posts(srv, "/rtpprobe/v1/webrtc")
    body = po[0]["body"] if po else {}
    check("?codec=pcmu&duration=3&agent=desk-7: in the POST body",
          body.get("codec") == "pcmu" and body.get("duration") == 3 and body.get("agent") == "desk-7", body)
    pts, names = offered(body.get("sdp", ""))
    encs = [names.get(p, "?").lower() for p in pts]
    check(f"?codec=pcmu: PCMU first in the offer ({encs})", encs[:1] == ["pcmu/8000"], encs)


def case_errors(srv, out):
    rc, _, err = drive(srv, out, token="v1:1:x:forged", name="precall-401.png")
    check("a refused token: error state, says it expired or is not valid, and what to do",
          rc == 1 and "expired or is not valid" in err and "new link" in err, f"rc {rc}: {err}")
    check("the 401 made no POST", not [s for s in srv.seen if s["method"] == "POST"], srv.seen)
    check("401: no console error but the failed request", "console errors" not in err, err)
    rc, _, err = drive(srv, out, token=None, name="precall-notoken.png")
    check("no token in the link: error state, says so", rc == 1 and "without its access token" in err, f"rc {rc}: {err}")
    check("no token: nothing asked of the API", [s["path"] for s in srv.seen] == ["/rtpprobe/precall"], srv.seen)
    rc, _, err = drive(srv, out, "?relay=1", name="precall-norelay.png")
    check("?relay=1 with no TURN server offered: error state, says so", rc == 1 and "no TURN relay" in err,
          f"rc {rc}: {err}")
    check("?relay=1 with no TURN server: no session asked for", not posts(srv, "/rtpprobe/v1/webrtc"), srv.seen)
    srv.turn = True
    rc, _, err = drive(srv, out, "?relay=1", name="precall-relay.png")
    srv.turn = False
    po = posts(srv, "/rtpprobe/v1/webrtc")
    sdp = po[0]["body"].get("sdp", "") if po else ""
    check("?relay=1 with a TURN server offered: the offer is made (then the stub's 503)", rc == 1 and len(po) == 1,
          f"rc {rc}: {err}")
    check("?relay=1: iceTransportPolicy relay, no host candidate in the offer", "typ host" not in sdp, sdp)
    rc, _, err = drive(srv, out, "?codec=g729", name="precall-badcodec.png")
    check("?codec=g729: error state, names the codec", rc == 1 and '"g729"' in err, f"rc {rc}: {err}")


def case_dead(srv, out):
    srv.mode = "dead"
    rc, res, err = drive(srv, out, name="precall-dead.png", timeout=90,
                         extra=("--expect-verdict", srv.report["verdict"]))
    srv.mode = "503"
    check("an answer whose candidate never answers: the stats are posted, the report drawn (done, exit 0)",
          rc == 0, f"rc {rc}: {err}")
    st = posts(srv, "/rtpprobe/v1/webrtc/0123456789abcdef0123456789abcdef/stats")
    check("one stats POST", len(st) == 1, srv.seen)
    if st:
        b = st[0]["body"]
        check("stats body: user_agent, no pair (never connected)", b.get("user_agent") and "pair" not in b, b)
        check("stats body: only the documented groups",
              set(b) <= {"outbound", "inbound", "remote_inbound", "remote_outbound", "pair", "checks", "user_agent"},
              sorted(b))
        c = b.get("checks") or {}
        check("stats body: the connectivity checks, none answered (what judges a path that never connected)",
              isinstance(c.get("requestsSent"), int) and c.get("responsesReceived", -1) == 0, c)
    rep = (res or {}).get("report")
    check("window.rtpprobeResult.report = the report the host returned", rep == srv.report)


def case_signal(srv, out, ref):
    """The page's talker against the C one, sample for sample (same RNG, same maths)."""
    if not ref or not pathlib.Path(ref).exists():
        print(f"skip the page's test signal against the CLI's: no {ref} (make build/tools/signaldump)")
        return
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        o.add_argument(arg)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    try:
        d.get(f"http://127.0.0.1:{srv.server_address[1]}/rtpprobe/precall")
        for rate, seed, n in ((48000, 7, 96000), (8000, 4000000000, 16000)):
            js = d.execute_script("return window.rtpprobeDebug.signal(arguments[0], arguments[1], arguments[2])",
                                  rate, seed, n)
            c = [int(x) for x in subprocess.run([ref, str(rate), str(seed), str(n)], capture_output=True,
                                                 text=True, check=True).stdout.split()]
            same = sum(1 for x, y in zip(js, c) if x == y)
            check(f"the page's talker = the CLI's at {rate} Hz, seed {seed}: {same} of {n} samples equal",
                  len(js) == len(c) == n and same == n and any(c))
    finally:
        d.quit()


LOOPBACK_JS = r"""
var done = arguments[arguments.length - 1];
(async function () {
  var ctx = new AudioContext({ sampleRate: 48000 });
  await ctx.resume();
  var osc = ctx.createOscillator(), dst = ctx.createMediaStreamDestination();
  osc.connect(dst);
  osc.start();
  var a = new RTCPeerConnection(), b = new RTCPeerConnection();
  a.onicecandidate = function (e) { if (e.candidate) b.addIceCandidate(e.candidate); };
  b.onicecandidate = function (e) { if (e.candidate) a.addIceCandidate(e.candidate); };
  var sink = document.getElementById('sink');
  b.ontrack = function (e) { sink.muted = true; sink.srcObject = e.streams[0]; sink.play().catch(function () {}); };
  a.addTrack(dst.stream.getAudioTracks()[0], dst.stream);
  await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription);
  await new Promise(function (r) { setTimeout(r, 4000); });
  var out = { sender: window.rtpprobeDebug.collect(await a.getStats()),
              receiver: window.rtpprobeDebug.collect(await b.getStats()) };
  a.close(); b.close(); ctx.close();
  done(out);
})().catch(function (e) { done({ err: String(e) }); });
"""


def case_loopback(srv, out):
    """collect() on a real getStats(): two connections in the page, audio one way,
    the receiver's track into the page's muted <audio> sink (as the page does)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--autoplay-policy=no-user-gesture-required", "--allow-loopback-in-peer-connection",
                "--disable-features=WebRtcHideLocalIpsWithMdns"):
        o.add_argument(arg)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    d.set_script_timeout(30)
    try:
        d.get(f"http://127.0.0.1:{srv.server_address[1]}/rtpprobe/precall#t={TOKEN}")
        r = d.execute_async_script(LOOPBACK_JS)
    finally:
        d.quit()
    check("loopback connections ran", "err" not in r, r)
    if "err" in r:
        return
    snd, rcv = r["sender"], r["receiver"]
    sent = snd.get("outbound", {}).get("packetsSent", 0)
    inb = rcv.get("inbound", {})
    check(f"sender: outbound packetsSent ({sent}) about 4 s of 20 ms packets", 150 <= sent <= 260, snd)
    check(f"receiver: inbound packetsReceived ({inb.get('packetsReceived')}) within 10 of sent",
          abs(inb.get("packetsReceived", 0) - sent) <= 10, inb)
    tsr = inb.get("totalSamplesReceived", 0)
    check(f"the muted <audio> sink makes the browser play out: totalSamplesReceived {tsr} > 3 s at 48 kHz",
          tsr > 3 * 48000, inb)
    for k in ("jitter", "jitterBufferDelay", "jitterBufferEmittedCount", "concealedSamples", "packetsLost"):
        check(f"inbound.{k} present", isinstance(inb.get(k), (int, float)), inb)
    p = rcv.get("pair") or {}
    check(f"selected pair: {p.get('local_type')} {p.get('local_address')} -> {p.get('remote_type')} "
          f"{p.get('remote_address')}, succeeded",
          p.get("state") == "succeeded" and p.get("local_type") in ("host", "srflx", "prflx", "relay") and
          p.get("remote_type") in ("host", "srflx", "prflx", "relay") and
          re.fullmatch(r"[0-9.\[\]a-f:]+:\d+", p.get("local_address", "")) is not None, p)
    check("not relayed: relay_protocol empty", p.get("relay_protocol") == "", p)
    check("user_agent is Chromium's", "Chrome/" in rcv.get("user_agent", ""), rcv.get("user_agent"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", type=pathlib.Path, default=ROOT / "tests/out")
    ap.add_argument("--only")
    ap.add_argument("--signal-ref", default=str(ROOT / "build/tools/signaldump"))
    a = ap.parse_args()
    srv = Stub()
    with tempfile.TemporaryDirectory() as tmp:
        srv.page, srv.csp = embedded_page(tmp)
    srv.report = json.loads((ROOT / "tests/webrtc/stub-report.json").read_text())
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        for name, f in (("503", case_503), ("pcmu", case_pcmu), ("errors", case_errors), ("dead", case_dead)):
            if not a.only or a.only == name:
                f(srv, a.out_dir)
        if not a.only or a.only == "loopback":
            case_loopback(srv, a.out_dir)
        if not a.only or a.only == "signal":
            case_signal(srv, a.out_dir, a.signal_ref)
    finally:
        srv.shutdown()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
