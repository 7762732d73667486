// The leaderboard is server-rendered: without JavaScript the table is there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, launchBrowser, settledLeaderboard } from "./helpers.mjs";

test("without JavaScript /leaderboard still shows the table rows", async () => {
  const board = await settledLeaderboard();
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${BASE}/leaderboard?lang=en`);
    const rows = await page.$$eval("#leaderboard-table tbody tr[data-model]", (trs) =>
      trs.map((tr) => ({ model: tr.dataset.model, visible: tr.getClientRects().length > 0 })));
    assert.deepEqual(rows.map((r) => r.model), board.rows.map((r) => r.model));
    assert.ok(rows.every((r) => r.visible), "the rows are visible");
    await context.close();
  } finally {
    await browser.close();
  }
});
