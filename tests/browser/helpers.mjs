// What every browser test shares: the servers run.sh started (from the
// environment), Debian's chromium with a throwaway profile, a page that
// records console errors, page errors and CSP violations, and the database.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (tests/browser/run.sh sets it)`);
  return value;
}

export const BASE = required("BASE");
export const HOSTILE_BASE = required("HOSTILE_BASE");
export const ARTIFACTS = required("ARTIFACTS");
export const DATABASE_URL = required("DATABASE_URL");
mkdirSync(ARTIFACTS, { recursive: true });

export function artifact(name) {
  return path.join(ARTIFACTS, name);
}

// A plain launch gives every browser a fresh temporary profile, removed on close.
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
}

// Runs in the page before its own scripts (init scripts are exempt from the
// page's CSP): keeps every CSP violation, which the tests treat as an error.
function recordViolations() {
  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}` +
                                ` at ${event.sourceFile}:${event.lineNumber}`);
  });
}

// newPage(browser, contextOptions) -> {context, page, problems}: problems
// collects console errors and uncaught page errors as they happen;
// pageProblems(page, problems) adds the CSP violations the page saw.
export async function newPage(browser, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...contextOptions });
  await context.addInitScript(recordViolations);
  const page = await context.newPage();
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()} (${message.location().url})`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  return { context, page, problems };
}

export async function pageProblems(page, problems) {
  const violations = await page.evaluate(() => window.__cspViolations ?? []).catch(() => []);
  return [...problems, ...violations.map((v) => `CSP violation: ${v}`)];
}

export async function getJson(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

export function psql(sql) {
  return execFileSync("psql", [DATABASE_URL, "-X", "-qtAc", sql], { encoding: "utf8" }).trim();
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The latest overall board once it counts every vote in the database, so a
// page and the API read the same snapshot (a vote cast by an earlier test
// would otherwise move the board between the two reads).
export async function settledLeaderboard(query = "") {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const votes = Number(psql("SELECT count(*) FROM votes"));
    const res = await fetch(`${BASE}/api/leaderboard${query}`);
    if (res.ok) {
      const board = await res.json();
      if (board.vote_count === votes) return board;
    }
    if (Date.now() > deadline) throw new Error(`the leaderboard did not reach ${votes} votes in 60 s`);
    await sleep(250);
  }
}

// One model of the seeded boards, for the model page.
export async function someModelName() {
  const board = await settledLeaderboard();
  return board.rows[0].model;
}

export async function pagePaths() {
  return ["/", "/leaderboard", "/evals", `/models/${encodeURIComponent(await someModelName())}`];
}

export function withQuery(path, query) {
  return path + (path.includes("?") ? "&" : "?") + query;
}

// One browser for a test file, launched before its tests and closed after
// them; with pages, also the paths of the pages to visit (pagePaths).
export function useBrowser({ pages = false } = {}) {
  const shared = { browser: null, paths: [] };
  before(async () => {
    shared.browser = await launchBrowser();
    if (pages) shared.paths = await pagePaths();
  });
  after(async () => { await shared.browser?.close(); });
  return shared;
}
