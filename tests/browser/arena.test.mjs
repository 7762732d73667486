// One arena round as a visitor plays it: prompt, both answers stream, the
// votes open only when both are done, a vote reveals the names and closes the
// votes again, and exactly one vote row reaches the database.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, artifact, newPage, pageProblems, psql, useBrowser } from "./helpers.mjs";

const VOTES = ["a", "b", "tie", "bothbad"];
const shared = useBrowser();

// Keeps each answer's data-state changes, so a stream shorter than a poll
// still shows it went idle -> streaming -> done.
function recordStates() {
  window.__states = { a: [], b: [] };
  const watch = () => {
    for (const side of ["a", "b"]) {
      const element = document.getElementById(`answer-${side}`);
      if (!element) continue;
      window.__states[side].push(element.getAttribute("data-state"));
      new MutationObserver(() => {
        const states = window.__states[side];
        const now = element.getAttribute("data-state");
        if (states[states.length - 1] !== now) states.push(now);
      }).observe(element, { attributes: true, attributeFilter: ["data-state"] });
    }
  };
  document.addEventListener("DOMContentLoaded", watch);
}

async function voteButtonsDisabled(page) {
  return page.$$eval("#votes button[data-vote]", (buttons) =>
    Object.fromEntries(buttons.map((b) => [b.dataset.vote, b.disabled])));
}

// Slows the page's downloads so the streaming state lasts long enough to be
// seen and photographed (the demo models answer in well under a second).
async function throttle(page, bytesPerSecond) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions",
                 { offline: false, latency: 0, downloadThroughput: bytesPerSecond, uploadThroughput: -1 });
  return cdp;
}

test("an arena round: stream, vote, names revealed, one vote row", async () => {
  const { context, page, problems } = await newPage(shared.browser);
  await context.addInitScript(recordStates);
  await page.goto(`${BASE}/?lang=en`);
  assert.deepEqual(Object.keys(await voteButtonsDisabled(page)).sort(), [...VOTES].sort(),
                   "#votes must hold the four vote buttons");
  assert.ok(Object.values(await voteButtonsDisabled(page)).every(Boolean), "votes are disabled before a battle");

  const cdp = await throttle(page, 24 * 1024);
  const started = page.waitForResponse((r) => r.url().endsWith("/api/battles") && r.request().method() === "POST");
  await page.fill("#prompt", "Once upon a time, there was a little dog");
  await page.click("#send");
  const battle = await (await started).json();
  assert.equal((await started).status(), 201);
  assert.match(battle.battle_id, /^[0-9a-f-]{36}$/);

  await page.waitForSelector("#answer-a[data-state=streaming], #answer-b[data-state=streaming]", { timeout: 30_000 });
  const midStream = await voteButtonsDisabled(page);
  await page.screenshot({ path: artifact("arena-streaming.png") });
  assert.ok(Object.values(midStream).every(Boolean), `votes must stay disabled while streaming: ${JSON.stringify(midStream)}`);

  await cdp.send("Network.emulateNetworkConditions",
                 { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await page.waitForSelector("#answer-a[data-state=done]", { timeout: 60_000 });
  await page.waitForSelector("#answer-b[data-state=done]", { timeout: 60_000 });
  await page.waitForFunction(() => [...document.querySelectorAll("#votes button[data-vote]")].every((b) => !b.disabled),
                             null, { timeout: 10_000 });
  const states = await page.evaluate(() => window.__states);
  for (const side of ["a", "b"]) {
    const seen = states[side];
    assert.ok(seen.includes("streaming") && seen.indexOf("streaming") < seen.lastIndexOf("done"),
              `#answer-${side} must go streaming -> done, went ${seen.join(" -> ")}`);
    const text = await page.textContent(`#answer-${side} .message.assistant[data-turn="1"]`);
    assert.ok(text && text.trim().length > 0, `#answer-${side} shows the answer`);
    assert.match(await page.textContent(`#answer-${side} .message.user[data-turn="1"]`), /little dog/);
  }

  for (const side of ["a", "b"])
    assert.equal((await page.textContent(`#name-${side}`)).trim(), "", `#name-${side} stays empty before the vote`);
  const voted = page.waitForResponse((r) => r.url().endsWith(`/api/battles/${battle.battle_id}/vote`));
  await page.click('#votes button[data-vote="a"]');
  const reply = await (await voted).json();
  assert.equal(reply.recorded, true);
  await page.waitForFunction(() => document.querySelector("#name-a")?.textContent.trim() &&
                                   document.querySelector("#name-b")?.textContent.trim(), null, { timeout: 10_000 });
  const visibleText = await page.evaluate(() => document.body.innerText);
  for (const side of ["a", "b"]) {
    const model = reply[`model_${side}`];
    const shown = await page.textContent(`#name-${side}`);
    assert.ok(shown.includes(model.display_name), `#name-${side} shows ${model.display_name}: ${shown}`);
    const untranslated = await page.$(`#name-${side} [translate=no], #name-${side}[translate=no]`);
    assert.ok(untranslated, `#name-${side}'s name is marked translate=no`);
    assert.ok(visibleText.includes(model.organization), `the page shows side ${side}'s organization`);
    assert.ok(visibleText.includes(model.license), `the page shows side ${side}'s licence`);
  }
  await page.waitForFunction(() => [...document.querySelectorAll("#votes button[data-vote]")].every((b) => b.disabled),
                             null, { timeout: 5_000 });
  for (const side of ["a", "b"]) assert.ok(await page.isVisible(`#name-${side}`), `#name-${side} is visible`);
  await page.locator("#name-a").scrollIntoViewIfNeeded();
  await page.screenshot({ path: artifact("arena-voted.png") });

  const rows = psql(`SELECT winner FROM votes WHERE battle_id = '${battle.battle_id}'`).split("\n").filter(Boolean);
  assert.deepEqual(rows, ["model_a"], "exactly one vote row, for A");
  assert.deepEqual(await pageProblems(page, problems), []);
  await context.close();
});

test("the keyboard: Ctrl+Enter sends, 2 votes B once both are done, N starts a new round", async () => {
  const { context, page, problems } = await newPage(shared.browser);
  await page.goto(`${BASE}/?lang=en`);
  await page.fill("#prompt", "Once upon a time, a cat");
  const started = page.waitForResponse((r) => r.url().endsWith("/api/battles") && r.request().method() === "POST");
  await page.press("#prompt", "Control+Enter");
  const battle = await (await started).json();
  await page.waitForSelector("#answer-a[data-state=done]", { timeout: 60_000 });
  await page.waitForSelector("#answer-b[data-state=done]", { timeout: 60_000 });
  await page.waitForFunction(() => [...document.querySelectorAll("#votes button[data-vote]")].every((b) => !b.disabled),
                             null, { timeout: 10_000 });
  await page.evaluate(() => document.activeElement?.blur());
  const voted = page.waitForResponse((r) => r.url().endsWith(`/api/battles/${battle.battle_id}/vote`));
  await page.keyboard.press("2");
  assert.equal((await voted).request().postDataJSON().vote, "b", "2 votes for B");
  assert.equal((await (await voted).json()).recorded, true);
  await page.waitForFunction(() => document.querySelector("#name-b")?.textContent.trim(), null, { timeout: 10_000 });
  assert.equal(psql(`SELECT winner FROM votes WHERE battle_id = '${battle.battle_id}'`), "model_b");

  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press("n");
  await page.waitForFunction(() => document.activeElement?.id === "prompt", null, { timeout: 5_000 });
  assert.equal(await page.inputValue("#prompt"), "", "a new round starts empty");
  assert.equal(await page.locator("#answer-a .message, #answer-b .message").count(), 0, "a new round clears the answers");
  assert.equal((await page.textContent("#name-a")).trim(), "", "a new round hides the names");
  assert.deepEqual(await pageProblems(page, problems), []);
  await context.close();
});

test("the arena on a phone: sides stack, nothing overflows", async () => {
  const { context, page, problems } = await newPage(shared.browser, { viewport: { width: 375, height: 800 } });
  await page.goto(`${BASE}/?lang=en`);
  await page.fill("#prompt", "Once upon a time");
  await page.click("#send");
  await page.waitForSelector("#answer-a[data-state=done]", { timeout: 60_000 });
  await page.waitForSelector("#answer-b[data-state=done]", { timeout: 60_000 });
  await page.screenshot({ path: artifact("arena-phone.png") });
  const layout = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    a: document.getElementById("answer-a").getBoundingClientRect().toJSON(),
    b: document.getElementById("answer-b").getBoundingClientRect().toJSON(),
  }));
  assert.ok(layout.scrollWidth <= 375, `the page is ${layout.scrollWidth} px wide on a 375 px screen`);
  assert.ok(layout.b.top >= layout.a.bottom - 1 || layout.a.top >= layout.b.bottom - 1,
            `the answers must stack on a phone: A ${JSON.stringify(layout.a)}, B ${JSON.stringify(layout.b)}`);
  assert.deepEqual(await pageProblems(page, problems), []);
  await context.close();
});
