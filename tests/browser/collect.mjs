// Drives headless Chromium through the served book and writes down what a reader's browser sees,
// as JSON. It judges nothing: tests/test_browser.py holds the checks, so that the same checks run
// on the real book and on copies broken on purpose.
//
//   node collect.mjs CONFIG.json
//
// CONFIG: {chromium, base (the served book's URL, ending in /), pages (paths, in SUMMARY.md's
// order), screenshots (a folder, or null), search (a word), out (where to write the report)}.

import { readFileSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const base = new URL(config.base);
const internal = (url) => url.origin === base.origin;

// A fresh profile every run; the flags keep Chromium off a network it cannot reach.
const profile = mkdtempSync(join(tmpdir(), "book-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: config.chromium,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});

const started = Date.now();
const lap = (what) => console.error(`collect: ${what} at ${((Date.now() - started) / 1000).toFixed(1)} s`);
const report = { pages: {}, nav: [], search: null, targets: {} };

// Errors of one page: uncaught exceptions, console errors, and any of the book's own files that
// failed to load (a missing script or stylesheet shows no exception, only a broken page).
function watch(page) {
  const errors = [];
  page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  page.on("requestfailed", (r) => {
    const why = r.failure()?.errorText;
    // ERR_ABORTED: a request the browser dropped itself (the favicon, when the test moves on).
    if (internal(new URL(r.url())) && why !== "net::ERR_ABORTED") errors.push(`failed to load ${r.url()}: ${why}`);
  });
  page.on("response", (r) => {
    if (internal(new URL(r.url())) && r.status() >= 400) errors.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  return errors;
}

async function describe(page) {
  return page.evaluate(() => {
    const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    const main = document.querySelector("main");
    return {
      title: document.querySelector("main h1")?.textContent ?? null,
      // A listing scrolls in its <pre> or, with highlight.js's styles, in the <code> inside it.
      blocks: [...main.querySelectorAll("pre")].map((pre) => {
        const code = pre.querySelector("code") ?? pre;
        return {
          lang: (code.className.match(/language-(\S+)/) || [])[1] ?? null,
          text: code.textContent,
          overflow: Math.max(pre.scrollWidth - pre.clientWidth, code.scrollWidth - code.clientWidth),
          width: code.clientWidth,
          visible: visible(pre),
        };
      }),
      notes: [...main.querySelectorAll("p.python-version")].map((p) => p.textContent),
      mainText: main.textContent,
      ids: [...document.querySelectorAll("[id]")].map((el) => el.id),
      names: [...document.querySelectorAll("a[name]")].map((el) => el.getAttribute("name")),
      links: [...document.querySelectorAll("a[href]")].map((a) => ({
        href: a.href, raw: a.getAttribute("href"), text: a.textContent.trim().slice(0, 60),
      })),
      // Diagrams (and charts) must fit the column too: their right edge against main's, and, for
      // an SVG without a viewBox (which does not scale), its own width against the width it got
      // (mdbook-svgbob's style sets every SVG's width to 100%, which cuts off what does not fit).
      svgs: [...main.querySelectorAll("svg")].map((s) => {
        const box = s.getBoundingClientRect();
        const scales = s.viewBox.baseVal && s.viewBox.baseVal.width > 0;
        const own = scales ? 0 : s.width.baseVal.value;
        return {
          visible: visible(s),
          text: s.textContent.slice(0, 60),
          overflow: Math.round(Math.max(box.right - main.getBoundingClientRect().right, own - box.width)),
        };
      }),
    };
  });
}

try {
  const page = await context.newPage();
  for (const path of config.pages) {
    const errors = watch(page);
    await page.goto(new URL(path, base).href, { waitUntil: "load" });
    const info = await describe(page);
    info.errors = errors;
    report.pages[path] = info;
    if (config.screenshots) {
      mkdirSync(config.screenshots, { recursive: true });
      await page.screenshot({ path: join(config.screenshots, path.replace(/\.html$/, ".jpeg")), fullPage: true, type: "jpeg", quality: 70 });
    }
    page.removeAllListeners();
    lap(path);
  }

  lap("pages read");
  // Every internal link's page (without its #fragment) must load; a fragment's page is read for
  // its ids when it is not one of the chapters above.
  const wanted = new Set();
  for (const info of Object.values(report.pages)) {
    for (const l of info.links) {
      const u = new URL(l.href);
      if (!internal(u)) continue;
      u.hash = "";
      wanted.add(u.href);
    }
  }
  for (const target of wanted) {
    const path = target.slice(base.href.length);
    if (report.pages[path]) { report.targets[target] = { status: 200, ids: null }; continue; }
    const r = await page.request.get(target);
    const entry = { status: r.status(), ids: null };
    if (r.ok() && (r.headers()["content-type"] || "").includes("text/html")) {
      await page.goto(target, { waitUntil: "load" });
      entry.ids = await page.evaluate(() => [
        ...[...document.querySelectorAll("[id]")].map((el) => el.id),
        ...[...document.querySelectorAll("a[name]")].map((el) => el.getAttribute("name")),
      ]);
    }
    report.targets[target] = entry;
  }

  lap("link targets read");
  // Previous/next: start at the first page and click "next" as a reader would, then walk back.
  await page.goto(new URL(config.pages[0], base).href, { waitUntil: "load" });
  report.nav.push(page.url());
  for (const rel of ["next", "prev"]) {
    for (let i = 0; i < config.pages.length + 2; i++) {
      const link = page.locator(`a[rel~="${rel}"]:visible`).first();
      if ((await link.count()) === 0) break;
      const from = page.url();
      await Promise.all([page.waitForURL((u) => u.href !== from, { waitUntil: "domcontentloaded" }), link.click()]);
      report.nav.push(`${rel}:${page.url()}`);
    }
  }

  lap("navigation walked");
  // In-book search, typed as a reader types it.
  {
    const errors = watch(page);
    await page.goto(new URL(config.pages[0], base).href, { waitUntil: "load" });
    await page.click("#search-toggle");
    // mdBook searches on key presses, so type the word rather than paste it.
    await page.locator("#searchbar").pressSequentially(config.search);
    let results = [];
    try {
      await page.waitForSelector("#searchresults li", { timeout: 5000 });
      results = await page.$$eval("#searchresults li a", (as) => as.map((a) => ({ href: a.href, text: a.textContent })));
    } catch (e) { /* no results: recorded as none */ }
    const header = await page.textContent("#searchresults-header").catch(() => null);
    report.search = { word: config.search, results, header, errors };
    lap("searched");
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

lap("closed");
writeFileSync(config.out, JSON.stringify(report, null, 1));
