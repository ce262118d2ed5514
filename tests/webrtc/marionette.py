"""Firefox driven through its own Marionette protocol, what geckodriver speaks
(Debian has no geckodriver): a length-prefixed JSON exchange on a TCP port,
[0, id, command, params] out, [1, id, error, result] back. Only the WebDriver
commands the pre-call test needs."""
import json
import socket
import time


class Marionette:
    def __init__(self, port, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.msgid = 0
        self._read()  # the server's hello
        # As geckodriver sends them: the matched capabilities, flat.
        self.call("WebDriver:NewSession", {"acceptInsecureCerts": True})

    def _recv(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("Firefox closed the Marionette connection")
        return chunk

    def _read(self):
        while b":" not in self.buf:
            self.buf += self._recv()
        n, _, rest = self.buf.partition(b":")
        n = int(n)
        while len(rest) < n:
            rest += self._recv()
        self.buf = rest[n:]
        return json.loads(rest[:n])

    def call(self, command, params=None):
        self.msgid += 1
        body = json.dumps([0, self.msgid, command, params or {}]).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body)
        while True:
            msg = self._read()
            if msg[0] == 1 and msg[1] == self.msgid:
                if msg[2]:
                    raise RuntimeError(f"{command}: {msg[2]}")
                return msg[3]

    def navigate(self, url):
        self.call("WebDriver:Navigate", {"url": url})

    def script(self, js, args=None):
        r = self.call("WebDriver:ExecuteScript", {"script": js, "args": args or []})
        return r.get("value") if isinstance(r, dict) else r

    def click(self, css):
        el = self.call("WebDriver:FindElement", {"using": "css selector", "value": css})["value"]
        self.call("WebDriver:ElementClick", {"id": list(el.values())[0]})

    def screenshot(self):
        r = self.call("WebDriver:TakeScreenshot", {"full": True})
        return r.get("value") if isinstance(r, dict) else r
