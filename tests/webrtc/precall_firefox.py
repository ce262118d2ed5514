#!/usr/bin/python3
"""The pre-call page in headless Firefox, driven through Marionette
(marionette.py): loads --url, clicks Start, waits for the page's data-state to
be done or error (polled, with a deadline: the event, not a sleep), prints
window.rtpprobeResult (with the browser's user agent) as JSON, saves a
screenshot. Exit 0 done, 1 error, 2 timeout, 77 no Firefox.

Firefox's fake devices (media.navigator.streams.fake) stand in for a
microphone, so the page runs with ?mic=1: on a machine without a sound device
headless Firefox keeps Web Audio suspended, and the page's synthetic voice is a
Web Audio graph, while a microphone track is sent as it is."""
import argparse
import base64
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from marionette import Marionette  # noqa: E402

# A throw-away profile: Marionette on our port, loopback ICE candidates (a
# daemon on 127.0.0.1), fake devices without a permission prompt, nothing
# fetched from the Internet.
PREFS = """
user_pref("marionette.port", %d);
user_pref("media.peerconnection.ice.loopback", true);
user_pref("media.peerconnection.ice.obfuscate_host_addresses", false);
user_pref("media.peerconnection.ice.link_local", true);
user_pref("media.navigator.streams.fake", true);
user_pref("media.navigator.permission.disabled", true);
user_pref("media.autoplay.default", 0);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("browser.aboutwelcome.enabled", false);
user_pref("app.update.disabledForTesting", true);
user_pref("services.settings.server", "data:,");
user_pref("network.connectivity-service.enabled", false);
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(m, a):
    m.navigate(a.url)
    deadline = time.monotonic() + a.timeout
    state, clicked = "", False
    while time.monotonic() < deadline:
        state = m.script("return document.body.dataset.state || '';")
        if state == "ready" and not clicked:
            m.click("#start")
            clicked = True
        if state in ("done", "error"):
            break
        time.sleep(0.25)
    a.out_dir.mkdir(parents=True, exist_ok=True)
    (a.out_dir / a.screenshot).write_bytes(base64.b64decode(m.screenshot()))
    result = m.script("return window.rtpprobeResult || null;") or {}
    print(json.dumps({"state": state, "userAgent": m.script("return navigator.userAgent;"), **result}))
    if state == "done":
        return 0
    text = str(m.script("return document.body.innerText.slice(0, 600);"))
    print(("page error: " if state == "error" else f"timeout: state {state!r} after {a.timeout} s: ") + text,
          file=sys.stderr)
    return 1 if state == "error" else 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--out-dir", type=pathlib.Path, default=pathlib.Path("tests/out"))
    ap.add_argument("--screenshot", default="precall-firefox.png")
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    firefox = shutil.which("firefox-esr") or shutil.which("firefox")
    if not firefox:
        print("skip: no firefox-esr", file=sys.stderr)
        return 77
    port = free_port()
    with tempfile.TemporaryDirectory() as prof:
        pathlib.Path(prof, "user.js").write_text(PREFS % port)
        env = dict(os.environ, HOME=prof, MOZ_HEADLESS="1")
        ff = subprocess.Popen([firefox, "--headless", "--marionette", "--no-remote", "--profile", prof],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            return run(Marionette(port), a)
        finally:
            ff.terminate()
            try:
                ff.wait(10)
            except subprocess.TimeoutExpired:
                ff.kill()


if __name__ == "__main__":
    sys.exit(main())
