// Every page loads without a console error, an uncaught exception, a CSP
// violation or a failed request of its own resources, in both languages.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, HOSTILE_BASE, newPage, pageProblems, sleep, useBrowser, withQuery } from "./helpers.mjs";

const shared = useBrowser({ pages: true });

test("no console errors, page errors, CSP violations or failed loads on any page", async () => {
  for (const base of [BASE, HOSTILE_BASE]) {
    for (const lang of ["en", "zh-CN"]) {
      for (const path of base === BASE ? shared.paths : ["/"]) {
        const { context, page, problems } = await newPage(shared.browser);
        page.on("response", (res) => {
          if (res.status() >= 400) problems.push(`${res.status()} for ${res.url()}`);
        });
        page.on("requestfailed", (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
        const res = await page.goto(`${base}${withQuery(path, `lang=${lang}`)}`);
        assert.equal(res.status(), 200, `${path}: status`);
        await page.waitForLoadState("load");
        await sleep(300);  // deferred scripts and what they fetch
        assert.deepEqual(await pageProblems(page, problems), [], `${base}${path} (${lang})`);
        await context.close();
      }
    }
  }
});
