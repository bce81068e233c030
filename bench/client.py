"""The tablet: `python -m bench.client [--quick]` (what `make client [QUICK=1]` calls).

The benchmark's data set (`bench.generate`), the real app under gunicorn on 127.0.0.1, and the
system Chromium (/usr/bin/chromium, headless; never a downloaded browser) driven by
Playwright, slowed through the DevTools protocol as a cheap tablet on a mobile network: the
CPU 6 times slower (`Emulation.setCPUThrottlingRate`, `--cpu-rate`) and DevTools' "Fast 3G"
(`Network.emulateNetworkConditions`, numbers below). Then, several rounds each:

1. A bridge builder (role staff) signs in through the real form and opens the Today screen:
   its first contentful paint and largest contentful paint (`paint` and
   `largest-contentful-paint` entries), read before the first tap.
2. Records a visit by taps: part of day, a count up, up again, down, a child, a language chip,
   a topic, new or returning, Save.
3. A coordinator signs in, opens a service's queue, taps a row's "Åtgärder" (htmx swaps in the
   row with its forms), changes the attempt's result with the keyboard, saves the attempt.

Each tap's interaction to next paint is read as the web-vitals library reads it: a
`PerformanceObserver` of type `event` with `durationThreshold: 16` (buffered); entries grouped
by `interactionId`, the longest entry of each interaction is its latency. An interaction that
no entry reports took under 16 ms: it is recorded as 16 (the threshold, an upper bound).

Targets (issue 23): every step's interactions under 100 ms at the 75th percentile and none
over 200 ms, with the CPU slowed 6x; the Today screen's LCP under 1.5 s on fast 3G (75th
percentile of the rounds). The exit status is 1 when one is missed (each is printed).

Writes bench/results/client.json (keys fixed):

    {"quick", "cpu_rate", "network", "rounds", "today": {"fcp_ms", "lcp_ms", "html_bytes",
     "loads": [{"fcp_ms", "lcp_ms"}]}, "interactions": {"visit": {STEP: [ms]}, "queue": {STEP:
     [ms]}}, "steps": {FLOW.STEP: {"p75_ms", "max_ms"}}, "save_visible_ms": [ms],
     "inp_p75_ms", "inp_max_ms", "targets_met", "missed": [str], "date", "machine"}
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from . import RESULTS_DIR, bench_app
from .endpoints import Fixture
from .generate import ensure_dataset, plan_for
from .run import DEFAULT_WORKERS, served_env
from .serve import Gunicorn, percentile

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]

CPU_RATE = 6  # a cheap tablet
# DevTools' "Fast 3G", as puppeteer-core's PredefinedNetworkConditions writes it
# (src/cdp/PredefinedNetworkConditions.ts, v22 to v24: "Generally aligned with DevTools",
# front_end/core/sdk/NetworkManager.ts): download (1.6 Mbit/s / 8) x 0.9 = 180,000 bytes/s,
# upload (750 kbit/s / 8) x 0.9 = 84,375 bytes/s, latency 150 ms x 3.75 = 562.5 ms.
# CDP takes bytes per second and milliseconds.
FAST_3G = {
    "offline": False,
    "downloadThroughput": 1.6 * 1000 * 1000 / 8 * 0.9,
    "uploadThroughput": 750 * 1000 / 8 * 0.9,
    "latency": 150 * 3.75,
}
NETWORK = "fast 3G"

TARGET_P75_MS = 100.0
TARGET_MAX_MS = 200.0
TARGET_LCP_MS = 1500.0
ROUNDS, QUICK_ROUNDS = 5, 2
THRESHOLD_MS = 16.0  # the observer's durationThreshold: the smallest Chromium allows
TIMEOUT_MS = 30_000  # one step on fast 3G with a slowed CPU; a failure beyond it

TABLET = {"viewport": {"width": 768, "height": 1024}, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}

# Installed before any page script (add_init_script): collects Event Timing entries with an
# interactionId, LCP candidates and FCP. `buffered: true` also delivers what came before.
OBSERVE_JS = """
(() => {
  if (window.__bench) return;
  const b = (window.__bench = { events: [], lcp: [], fcp: null });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.interactionId)
        b.events.push({
          id: e.interactionId, name: e.name, duration: e.duration,
          delay: e.processingStart - e.startTime, processing: e.processingEnd - e.processingStart,
        });
    }
  }).observe({ type: "event", durationThreshold: 16, buffered: true });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) b.lcp.push(e.startTime);
  }).observe({ type: "largest-contentful-paint", buffered: true });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.name === "first-contentful-paint") b.fcp = e.startTime;
  }).observe({ type: "paint", buffered: true });
})();
"""
# Two frames and a task: Event Timing entries are delivered after the frame that follows the
# handlers, and the observer's callback after that.
FRAMES_JS = """() => new Promise((done) =>
  requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 0))))"""


# A person taps when the page has settled: the next idle moment (at most 2 s away).
IDLE_JS = """() => new Promise((done) => requestIdleCallback(() => done(), { timeout: 2000 }))"""


def interaction_latencies(entries: Iterable[dict]) -> dict[int, float]:
    """Event Timing entries grouped by interactionId, each interaction's latency the longest
    of its entries (web-vitals' INP): {interactionId: ms}. Entries without an id are not
    interactions (mousemove, pointerover...)."""
    latencies: dict[int, float] = {}
    for entry in entries:
        iid = entry.get("id") or 0
        if iid:
            latencies[iid] = max(latencies.get(iid, 0.0), float(entry["duration"]))
    return latencies


def phases(entries: list[dict]) -> dict | None:
    """The longest entry's event and its three parts (web-vitals' attribution): input delay
    (until the handlers ran), processing (the handlers), presentation (until the next paint)."""
    if not entries:
        return None
    e = max(entries, key=lambda entry: entry["duration"])
    return {
        "event": e["name"],
        "input_delay_ms": round(e["delay"], 1),
        "processing_ms": round(e["processing"], 1),
        "presentation_ms": round(e["duration"] - e["delay"] - e["processing"], 1),
    }


def summarise(steps: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    return {
        name: {"p75_ms": percentile(values, 75), "max_ms": max(values) if values else 0.0}
        for name, values in steps.items()
    }


def missed_targets(steps: dict, lcp_p75: float) -> list[str]:
    """Each target missed, as a line: a step's p75 or max, or the Today screen's LCP."""
    missed = []
    for name, row in steps.items():
        if row["p75_ms"] >= TARGET_P75_MS:
            missed.append(f"{name}: p75 {row['p75_ms']:.0f} ms (target < {TARGET_P75_MS:.0f})")
        if row["max_ms"] > TARGET_MAX_MS:
            missed.append(f"{name}: max {row['max_ms']:.0f} ms (target <= {TARGET_MAX_MS:.0f})")
    if lcp_p75 >= TARGET_LCP_MS:
        missed.append(f"today: LCP p75 {lcp_p75:.0f} ms (target < {TARGET_LCP_MS:.0f})")
    return missed


def machine() -> str:
    load = Path("/proc/loadavg").read_text().split()[:3]
    return f"{os.cpu_count()} CPUs, load {' '.join(load)}"


class Tablet:
    """One browser context (one person, one device), slowed through a CDP session."""

    def __init__(self, browser, base_url: str, device: dict, cpu_rate: float):
        self.context = browser.new_context(
            **device, base_url=base_url, locale="sv-SE", timezone_id="Europe/Stockholm"
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.add_init_script(OBSERVE_JS)
        self.page = self.context.new_page()
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu_rate})
        self.cdp.send("Network.enable")
        self.cdp.send("Network.emulateNetworkConditions", FAST_3G)
        self.touch = bool(device.get("has_touch"))
        self.steps: dict[str, list[float]] = {}
        self.phases: dict[str, list[dict | None]] = {}

    def press(self, locator) -> None:
        """A finger's tap on a tablet, a mouse click at a desk, sent straight through the CDP
        session once the page is idle. Playwright's own tap and click run its actionability
        scripts in the page first, on the slowed main thread, which showed as 30 to 80 ms of
        input delay on every tap that no person's finger causes."""
        locator.scroll_into_view_if_needed()
        box = locator.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        self.page.evaluate(IDLE_JS)
        if self.touch:
            point = [{"x": x, "y": y}]
            self.cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": point})
            self.cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        else:
            for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
                self.cdp.send(
                    "Input.dispatchMouseEvent",
                    {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
                )

    def sign_in(self, email: str, password: str) -> None:
        page = self.page
        page.goto("/login")
        form = page.locator("form:has(input[name=password])")
        form.locator("input[name=email]").fill(email)
        form.locator("input[name=password]").fill(password)
        form.locator("button[type=submit]").click()
        page.locator("form[action$='/logout'] button[type=submit]").wait_for()

    def load(self, url: str, cold: bool = False) -> dict:
        """Open `url` and read its FCP and LCP before any input (input ends LCP); `cold`:
        with the browser's cache off, so the stylesheet and scripts come over the network."""
        self.cdp.send("Network.setCacheDisabled", {"cacheDisabled": cold})
        self.page.goto(url, wait_until="load")
        self.cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
        self.page.evaluate(FRAMES_JS)
        paint = self.page.evaluate(
            """() => ({fcp: window.__bench.fcp, lcp: window.__bench.lcp,
                       nav: performance.getEntriesByType("navigation")[0].toJSON()})"""
        )
        return {
            "fcp_ms": round(paint["fcp"] or 0.0, 1),
            "lcp_ms": round(paint["lcp"][-1] if paint["lcp"] else 0.0, 1),
            "html_ms": round(paint["nav"]["responseEnd"], 1),
            "html_bytes": paint["nav"]["decodedBodySize"],
            "transfer_bytes": paint["nav"]["transferSize"],
        }

    def step(self, name: str, act: Callable[[], None], done: Callable[[], None] | None = None):
        """Do one interaction and record its latency under `name`."""
        page = self.page
        count = page.evaluate("() => performance.interactionCount")
        mark = page.evaluate("() => window.__bench.events.length")
        act()
        if done:
            done()
        page.wait_for_function("n => performance.interactionCount > n", arg=count)
        try:  # an entry for the new interaction, unless it was under the threshold
            page.wait_for_function("m => window.__bench.events.length > m", arg=mark, timeout=1000)
        except Exception:  # noqa: BLE001 - Playwright's TimeoutError: nothing over 16 ms
            pass
        page.evaluate(FRAMES_JS)
        entries = page.evaluate("m => window.__bench.events.slice(m)", mark)
        latencies = interaction_latencies(entries)
        ms = max(latencies.values()) if latencies else THRESHOLD_MS
        self.steps.setdefault(name, []).append(round(ms, 1))
        self.phases.setdefault(name, []).append(phases(entries))
        return ms

    def close(self) -> None:
        self.context.close()


def visit_round(tablet: Tablet, n: int) -> float:
    """Record one group on the Today screen by taps; return ms from Save to the fresh form."""
    page = tablet.page
    form = page.locator("#record-form")

    def chip(name: str, nth: int = 0):
        return form.locator(f"label.chip:has(input[name={name}])").nth(nth)

    def stepper(field: str, step: int):
        return form.locator(f"button.stepper-button[aria-controls={field}][data-step='{step}']")

    def has_value(field: str, value: int):
        return lambda: page.wait_for_function(
            "([f, v]) => document.querySelector('#record-form input#' + f).value === v",
            arg=[field, str(value)],
        )

    def checked(name: str, nth: int = 0):
        return lambda: page.wait_for_function(
            "([n, i]) => document.querySelectorAll("
            "'#record-form label.chip input[name=' + n + ']')[i].checked",
            arg=[name, nth],
        )

    tablet.step(
        "part_of_day",
        lambda: tablet.press(chip("part_of_day", n % 2)),
        checked("part_of_day", n % 2),
    )
    tablet.step("count_plus", lambda: tablet.press(stepper("women", 1)), has_value("women", 1))
    tablet.step("count_plus", lambda: tablet.press(stepper("women", 1)), has_value("women", 2))
    tablet.step("count_minus", lambda: tablet.press(stepper("women", -1)), has_value("women", 1))
    tablet.step(
        "count_plus", lambda: tablet.press(stepper("children_1_3", 1)), has_value("children_1_3", 1)
    )
    tablet.step(
        "language", lambda: tablet.press(chip("languages", n % 3)), checked("languages", n % 3)
    )
    tablet.step("topic", lambda: tablet.press(chip("topics", n % 3)), checked("topics", n % 3))
    tablet.step(
        "new_or_returning", lambda: tablet.press(chip("is_new", n % 2)), checked("is_new", n % 2)
    )
    started = [0.0]

    def save():
        started[0] = time.monotonic()
        tablet.press(page.locator("#record-form button.save-visit"))

    def saved():  # the fresh, empty form the server swaps in
        page.wait_for_function(
            "() => !document.querySelector('.htmx-request') &&"
            " document.querySelector('#record-form input#women').value === '0'"
        )

    tablet.step("save", save, saved)
    return round((time.monotonic() - started[0]) * 1000, 1)


def queue_round(tablet: Tablet, url: str, n: int) -> None:
    """Open the queue, a row's actions, change the attempt's result, save the attempt."""
    page = tablet.page
    page.goto(url, wait_until="load")
    link = page.locator("li.queue-item a.queue-actions").nth(n)
    row_id = link.evaluate("a => a.closest('li.queue-item').id")
    row = page.locator(f"#{row_id}")
    tablet.step(
        "actions",
        lambda: tablet.press(link),
        lambda: row.locator("details.queue-actions[open]").wait_for(),
    )
    result = row.locator("select[name=result]")
    result.focus()
    before = result.input_value()
    tablet.step(
        "result",
        lambda: (page.evaluate(IDLE_JS), page.keyboard.press("ArrowDown")),
        lambda: page.wait_for_function(
            "([id, v]) => document.querySelector('#' + id + ' select[name=result]').value !== v",
            arg=[row_id, before],
        ),
    )
    tablet.step(
        "save_attempt",
        lambda: tablet.press(row.locator("form:has(select[name=result]) button[type=submit]")),
        lambda: page.wait_for_function(
            "id => !document.querySelector('.htmx-request') &&"
            " document.querySelector('#' + id + ' .flash')",
            arg=row_id,
        ),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time the tablet's taps in a slowed Chromium.")
    parser.add_argument("--quick", action="store_true", help="a tenth of the data, 2 rounds (CI)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, help=f"default {ROUNDS}, --quick {QUICK_ROUNDS}")
    parser.add_argument("--cpu-rate", type=float, default=CPU_RATE, help="CPU slowdown (6)")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    args = parser.parse_args(argv)
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else ROUNDS)
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        print(f"Chromium not found at {CHROMIUM}: apt-get install chromium", file=sys.stderr)
        return 1

    from playwright.sync_api import sync_playwright  # only here: the rest imports without it

    load_before = machine()
    url, _counts = ensure_dataset(None, plan_for(args.quick, args.seed))
    fx = Fixture.load(bench_app(url))
    staff, coordinator = fx.who("staff"), fx.who("coordinator")
    today_url = f"/sites/{staff.site_id}/today"
    queue_url = f"/queue/services/{coordinator.service_id}?status=new"
    loads, save_visible = [], []
    print(f"  {rounds} rounds, CPU slowed {args.cpu_rate:g}x, {NETWORK}; {load_before}", flush=True)
    with Gunicorn("app:create_app()", served_env(url), args.workers) as server:
        base = f"http://127.0.0.1:{server.port}"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
            )
            tablet = Tablet(browser, base, TABLET, args.cpu_rate)
            tablet.sign_in(staff.email, fx.password)
            # Every worker compiles its templates on its first requests: not the tablet's.
            for _ in range(4 * args.workers):
                tablet.page.request.get(today_url)
            cold = tablet.load(today_url, cold=True)
            print(f"  today, cold: {cold}", flush=True)
            for n in range(rounds):
                loads.append(tablet.load(today_url))
                save_visible.append(visit_round(tablet, n))
                print(f"  visit round {n + 1}: {loads[-1]}", flush=True)
            desk = Tablet(browser, base, DESKTOP, args.cpu_rate)
            desk.sign_in(coordinator.email, fx.password)
            for n in range(rounds):
                queue_round(desk, queue_url, n)
                print(f"  queue round {n + 1}", flush=True)
            tablet.close()
            desk.close()
            browser.close()

    interactions = {"visit": tablet.steps, "queue": desk.steps}
    steps = summarise(
        {
            f"{flow}.{name}": values
            for flow, rows in interactions.items()
            for name, values in rows.items()
        }
    )
    every = [ms for rows in interactions.values() for values in rows.values() for ms in values]
    lcp_p75 = percentile([row["lcp_ms"] for row in loads], 75)
    missed = missed_targets(steps, lcp_p75)
    result = {
        "quick": args.quick,
        "cpu_rate": args.cpu_rate,
        "network": NETWORK,
        "rounds": rounds,
        "today": {
            "fcp_ms": percentile([row["fcp_ms"] for row in loads], 75),
            "lcp_ms": lcp_p75,
            "html_ms": percentile([row["html_ms"] for row in loads], 75),
            "html_bytes": loads[-1]["html_bytes"],
            "transfer_bytes": loads[-1]["transfer_bytes"],
            "loads": loads,
            "cold": cold,
        },
        "interactions": interactions,
        "phases": {
            f"{flow}.{name}": rows
            for flow, tab in (("visit", tablet), ("queue", desk))
            for name, rows in tab.phases.items()
        },
        "steps": steps,
        "save_visible_ms": save_visible,
        "inp_p75_ms": percentile(every, 75),
        "inp_max_ms": max(every),
        "targets_met": not missed,
        "missed": missed,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{load_before}; after: {machine().split('load ')[1]}",
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / "client.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{'step':<28}{'p75 ms':>8}{'max ms':>8}")
    for name, row in steps.items():
        print(f"{name:<28}{row['p75_ms']:>8.0f}{row['max_ms']:>8.0f}")
    print(
        f"Today: FCP p75 {result['today']['fcp_ms']:.0f} ms, LCP p75 {lcp_p75:.0f} ms"
        f" (HTML {loads[-1]['html_bytes']:,} bytes, {loads[-1]['transfer_bytes']:,} sent);"
        f" cold FCP {cold['fcp_ms']:.0f}, LCP {cold['lcp_ms']:.0f} ms;"
        f"; INP p75 {result['inp_p75_ms']:.0f} ms,"
        f" max {result['inp_max_ms']:.0f} ms; {result['machine']}"
    )
    for line in missed:
        print(f"MISSED {line}")
    print(f"Written: {out}")
    if missed and args.quick:
        # CI's quick run checks that both flows work end to end in the slowed browser (an error
        # fails it above); its few rounds on a shared machine are too few to judge a p75 by,
        # so there the targets are reported, not enforced. The full run enforces them.
        print("(--quick: targets reported, not enforced; run without --quick to judge them)")
        return 0
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
