#!/usr/bin/python3
"""Runs the browser pre-call page in headless Chromium (selenium + chromium-driver).

usage: precall_check.py --url 'https://HOST:PORT/rtpprobe/precall#t=TOKEN' [--out-dir tests/out]
                        [--expect-verdict pass|warn|fail|unknown] [--timeout S] [--screenshot NAME]

Loads the page, presses "Start the test" (a real click: the user gesture the
browser's audio wants), waits for body[data-state] to become done or error,
saves a screenshot (OUT_DIR/precall.png) and prints window.rtpprobeResult as
JSON on stdout. The browser's console is collected: any error or warning there
(a script error, a CSP violation, a failed request) fails the run.

Exit: 0 done (and the verdict as expected, when given); 1 the page's error state
(its error text on stderr), a console error, or another verdict; 2 timeout;
77 selenium or Chromium cannot be started.
"""
import argparse
import json
import pathlib
import sys

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:
    print(f"skip: python3-selenium is missing ({e})", file=sys.stderr)
    sys.exit(77)


def start_browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,1000", "--no-first-run", "--disable-extensions",
              "--disable-background-networking", "--disable-component-update",
              # ?mic=1: a fake microphone, granted without a prompt.
              "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              # The daemon's test certificate is self-signed.
              "--ignore-certificate-errors",
              # A daemon on loopback: Chromium gathers no loopback candidate otherwise.
              "--allow-loopback-in-peer-connection",
              # Loopback candidates are what a loopback daemon is reached by (Chromium
              # otherwise hides host candidates behind mDNS names).
              "--disable-features=WebRtcHideLocalIpsWithMdns"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    opts.set_capability("acceptInsecureCerts", True)
    try:
        return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    except Exception as e:  # the reason is all a skip can give
        print(f"skip: cannot start headless Chromium: {str(e).splitlines()[0]}", file=sys.stderr)
        sys.exit(77)


def console_errors(driver, page_state):
    """Errors and warnings in the console. In the error state, the API's own HTTP
    error status (Chromium logs it as "Failed to load resource") is the error the
    page shows, not a fault of the page: only that is left out."""
    out = []
    for e in driver.get_log("browser"):
        if e["level"] not in ("SEVERE", "WARNING"):
            continue
        if page_state == "error" and e.get("source") == "network" and \
                "the server responded with a status of" in e["message"]:
            continue
        out.append(e["message"])
    return out


def screenshot(driver, path):
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1280, "height": min(int(height), 4000), "deviceScaleFactor": 1, "mobile": False})
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))


def download_ok(driver):
    """The "Download report (JSON)" button makes a blob: link to the report."""
    driver.find_element(By.ID, "download").click()
    link = driver.execute_script(
        "var a = document.getElementById('download-link');"
        "return a.href.indexOf('blob:') === 0 ? [a.download, a.href] : null;")
    if not link or not link[0].endswith(".json"):
        print(f"precall_check: the download button made no JSON blob link ({link})", file=sys.stderr)
        return False
    # The page's CSP (connect-src 'self') keeps even this script from reading the blob:
    # the page keeps the text it put in it.
    body = driver.execute_script("return JSON.parse(window.rtpprobeDebug.download)")
    if body != driver.execute_script("return window.rtpprobeResult.report"):
        print("precall_check: the downloaded JSON is not the report", file=sys.stderr)
        return False
    return True


def state(driver):
    return driver.execute_script("return document.body ? document.body.dataset.state : ''")


def run(driver, a):
    driver.get(a.url)
    wait = WebDriverWait(driver, a.timeout, poll_frequency=0.2)
    try:
        wait.until(lambda d: state(d) in ("ready", "error"))
        if state(driver) == "ready":
            driver.find_element(By.ID, "start").click()
            wait.until(lambda d: state(d) in ("done", "error"))
    except TimeoutException:
        phase = driver.execute_script("var e = document.getElementById('phase'); return e ? e.textContent : ''")
        print(f"precall_check: timeout: the page is still {state(driver)!r} after {a.timeout} s, at: {phase!r}",
              file=sys.stderr)
        errors = console_errors(driver, state(driver))
        if errors:
            print("precall_check: console errors: " + " | ".join(errors[:5]), file=sys.stderr)
        screenshot(driver, a.out_dir / a.screenshot)
        return 2
    result = driver.execute_script("return window.rtpprobeResult || null")
    print(json.dumps(result, indent=2, sort_keys=True))
    screenshot(driver, a.out_dir / a.screenshot)
    rc = 0
    if state(driver) == "error":
        err = driver.find_element(By.ID, "error-text").get_attribute("textContent")
        helptext = driver.find_element(By.ID, "error-help").get_attribute("textContent")
        print(f"precall_check: the page's error: {err} {helptext}", file=sys.stderr)
        rc = 1
    elif not download_ok(driver):
        rc = 1
    elif a.expect_verdict:
        got = ((result or {}).get("report") or {}).get("verdict")
        if got != a.expect_verdict:
            print(f"precall_check: verdict {got!r}, expected {a.expect_verdict!r}", file=sys.stderr)
            rc = 1
    errors = console_errors(driver, state(driver))
    if errors:
        print("precall_check: console errors: " + " | ".join(errors[:5]), file=sys.stderr)
        rc = 1
    return rc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--out-dir", type=pathlib.Path, default=pathlib.Path("tests/out"))
    ap.add_argument("--screenshot", default="precall.png")
    ap.add_argument("--expect-verdict", choices=("pass", "warn", "fail", "unknown"))
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    driver = start_browser()
    try:
        return run(driver, a)
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
