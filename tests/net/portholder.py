#!/usr/bin/env python3
"""Holds every even UDP port of LO-HI until another socket is bound in WATCH_LO-WATCH_HI.

Scenario 12 needs rtpprobed's session port inside the part of the range the
edge forwards: the daemon, like Asterisk, skips ports another process holds,
so holding the rest steers its random choice there. Holding them until the
session exists, and no longer, leaves the whole range free for the port sample
that follows the media test (a port in use is not tried).

    portholder.py LO HI WATCH_LO WATCH_HI TIMEOUT_S

Prints "holding N" once bound, "released: port P bound" when the watched
range got a socket (exit 0), or "released: timeout" (exit 1).
"""
import resource
import socket
import sys
import time


def bound_ports():
    ports = set()
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    local = line.split()[1]
                    ports.add(int(local.rsplit(":", 1)[1], 16))
        except FileNotFoundError:
            pass
    return ports


def main():
    lo, hi, wlo, whi, timeout = (int(a) for a in sys.argv[1:6])
    want = (hi - lo) // 2 + 64
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, 1024), max(hard, want)))
    held = []
    for port in range(lo + (lo & 1), hi + 1, 2):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", port))
        held.append(s)
    mine = set(range(lo + (lo & 1), hi + 1, 2))
    print(f"holding {len(held)}", flush=True)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = [p for p in bound_ports() if wlo <= p <= whi and p not in mine]
        if got:
            for s in held:
                s.close()
            print(f"released: port {got[0]} bound", flush=True)
            return 0
        time.sleep(0.01)
    for s in held:
        s.close()
    print("released: timeout", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
