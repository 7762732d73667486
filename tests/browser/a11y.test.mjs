// axe-core on every page in both languages, and on the arena after a round:
// no violation of serious or critical impact.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { BASE, newPage, useBrowser, withQuery } from "./helpers.mjs";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const shared = useBrowser({ pages: true });

async function seriousViolations(page) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(" ")}: ${n.failureSummary?.split("\n").slice(0, 2).join(" ")}`),
  }));
}

test("no serious or critical accessibility violations on any page", async () => {
  // bypassCSP only here: the page's CSP rightly refuses the injected axe script.
  const { context, page } = await newPage(shared.browser, { bypassCSP: true });
  for (const path of shared.paths) {
    for (const lang of ["en", "zh-CN"]) {
      await page.goto(`${BASE}${withQuery(path, `lang=${lang}`)}`);
      assert.deepEqual(await seriousViolations(page), [], `${path} (${lang})`);
    }
  }
  await context.close();
});

test("no serious or critical accessibility violations on the arena after a round", async () => {
  const { context, page } = await newPage(shared.browser, { bypassCSP: true });
  await page.goto(`${BASE}/?lang=en`);
  await page.fill("#prompt", "Once upon a time");
  await page.click("#send");
  await page.waitForSelector("#answer-a[data-state=done]", { timeout: 60_000 });
  await page.waitForSelector("#answer-b[data-state=done]", { timeout: 60_000 });
  assert.deepEqual(await seriousViolations(page), [], "answers shown, votes open");
  await context.close();
});
