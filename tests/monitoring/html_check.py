#!/usr/bin/python3
"""Checks an rtpprobe --html page in headless Chromium (selenium + chromium-driver).

usage: html_check.py --html PAGE --json REPORT --drops N --duration S --screenshot PNG

Prints one `ok   ...` or `FAIL ...` line per check; exit 0 all passed, 1 a check
failed, 77 when selenium or Chromium cannot be started (the reason on stdout).
"""
import argparse
import json
import pathlib
import sys

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:
    print(f"skip: python3-selenium is missing ({e})")
    sys.exit(77)

failed = 0


def check(what, cond, detail=""):
    global failed
    if cond:
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}{': ' + detail if detail else ''}")


def start_browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=900,1200", "--no-first-run", "--disable-extensions",
              "--disable-background-networking", "--disable-component-update"):
        opts.add_argument(a)
    # performance: the DevTools network events (every request the page makes);
    # browser: the console, where a CSP violation or a script error shows.
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    try:
        return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    except Exception as e:  # the reason is all a skip can give
        print(f"skip: cannot start headless Chromium: {str(e).splitlines()[0]}")
        sys.exit(77)


def points(driver, plot, series):
    return len(driver.find_elements(By.CSS_SELECTOR, f"#{plot} g[data-series='{series}'] circle.pt"))


def check_plots(driver, rep, duration):
    """Each series: one point per per-second entry that has a value."""
    dirs = [d for d in ("upstream", "downstream") if rep[d].get("per_second")]
    check("per-second data in the JSON for both directions and RTT",
          len(dirs) == 2 and bool(rep.get("rtt_per_second")),
          "absent: the page shows no plots")
    if len(dirs) < 2 or not rep.get("rtt_per_second"):
        if not dirs and not rep.get("rtt_per_second"):
            note = driver.find_elements(By.ID, "no-per-second")
            check("without per-second data the page says so", len(note) == 1)
        return
    values = {
        "plot-loss": lambda s: s["lost"] if s["packets"] + s["lost"] > 0 else None,
        "plot-jitter": lambda s: s["jitter_ms"],
        "plot-delay": lambda s: s["delay_ms"],
    }
    for d in dirs:
        ps = rep[d]["per_second"]
        check(f"{d}: {len(ps)} per-second entries for a {duration} s run (± 1)", abs(len(ps) - duration) <= 1)
        for plot, f in values.items():
            want = sum(1 for s in ps if f(s) is not None)
            got = points(driver, plot, d)
            check(f"{plot} {d}: {got} points = {want} per-second entries with a value (of {len(ps)})",
                  got == want and want >= len(ps) - 1)
    rtt = rep["rtt_per_second"]
    want = sum(1 for s in rtt if s["rtt_ms"] is not None)
    got = points(driver, "plot-rtt", "rtt")
    check(f"rtt_per_second: {len(rtt)} entries for a {duration} s run (± 1)", abs(len(rtt) - duration) <= 1)
    check(f"plot-rtt: {got} points = {want} entries with a value", got == want and want > 0)


def check_network(driver, url):
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    others = [u for u in urls if u != url]
    check(f"no network request but the page itself ({len(urls)} request(s))", urls and not others,
          ", ".join(others[:5]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--html", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--drops", type=int, required=True)
    ap.add_argument("--duration", type=int, required=True)
    ap.add_argument("--screenshot", required=True)
    a = ap.parse_args()
    rep = json.loads(pathlib.Path(a.json).read_text())
    url = pathlib.Path(a.html).resolve().as_uri()
    driver = start_browser()
    try:
        driver.get(url)
        WebDriverWait(driver, 30).until(
            lambda d: d.execute_script("return document.documentElement.dataset.rendered") == "yes")
        embedded = driver.execute_script("return JSON.parse(document.getElementById('report').textContent)")
        check("the JSON the page carries = the --json output of the same run", embedded == rep)
        # textContent: the DOM's text (the style shows it upper-case).
        verdict = driver.find_element(By.ID, "verdict").get_attribute("textContent")
        check(f"verdict in the DOM ({verdict!r}) = the JSON's ({rep['verdict']!r})", verdict == rep["verdict"])
        cell = "td[data-dir='upstream'][data-key='lost']"
        lost = driver.find_element(By.CSS_SELECTOR, cell).get_attribute("textContent")
        check(f"upstream packets lost shown ({lost}) = nft drops ({a.drops})", lost == str(a.drops))
        per = rep["upstream"].get("per_second") or []
        if per:
            check(f"upstream per-second lost add up to the nft drops ({a.drops})",
                  sum(s["lost"] for s in per) == a.drops, str(sum(s["lost"] for s in per)))
        check_plots(driver, rep, a.duration)
        errors = [e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
        check("no console errors or warnings (script, CSP)", not errors, "; ".join(errors[:3]))
        check_network(driver, url)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        # The whole page in one picture: the viewport made as tall as the document.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 900, "height": min(int(height), 4000), "deviceScaleFactor": 1, "mobile": False})
        pathlib.Path(a.screenshot).parent.mkdir(parents=True, exist_ok=True)
        check(f"screenshot {a.screenshot}", driver.save_screenshot(a.screenshot))
    finally:
        driver.quit()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
