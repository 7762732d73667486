// Model output is untrusted: upstream.mjs answers with a <script> and an
// <img onerror> that must show as text and never run, plus Markdown the page
// must render (bold, a highlighted Python block).
import { test } from "node:test";
import assert from "node:assert/strict";
import { HOSTILE_BASE, newPage, pageProblems, sleep, useBrowser } from "./helpers.mjs";

const shared = useBrowser();

test("hostile answers stay text; Markdown is rendered", async () => {
  const { context, page, problems } = await newPage(shared.browser);
  await page.goto(`${HOSTILE_BASE}/?lang=en`);
  await page.fill("#prompt", "Show me some markup");
  await page.click("#send");
  await page.waitForSelector("#answer-a[data-state=done]", { timeout: 60_000 });
  await page.waitForSelector("#answer-b[data-state=done]", { timeout: 60_000 });
  await sleep(500);  // an <img onerror> would fire after its failed load

  for (const side of ["a", "b"]) {
    const answer = `#answer-${side} .message.assistant[data-turn="1"]`;
    const text = await page.textContent(answer);
    assert.ok(text.includes("<script>"), `#answer-${side} shows <script> as text: ${text}`);
    assert.ok(text.includes("<img"), `#answer-${side} shows <img as text: ${text}`);
    assert.equal(await page.locator(`#answer-${side} script, #answer-${side} img`).count(), 0,
                 `no script or img element inside #answer-${side}`);
    assert.equal(await page.locator(`${answer} [onerror], ${answer} [onload]`).count(), 0);
    assert.equal(await page.textContent(`${answer} strong`), "bold", "**bold** becomes <strong>");

    const code = page.locator(`${answer} pre`);
    assert.equal(await code.count(), 1, "the fenced block becomes one <pre>");
    assert.match(await code.textContent(), /def add\(a, b\):/);
    const kinds = await code.evaluate((pre) => [...pre.querySelectorAll("span[class*='tok-']")]
      .map((span) => ({ kind: [...span.classList].find((c) => c.startsWith("tok-")), text: span.textContent })));
    const textsOf = (kind) => kinds.filter((k) => k.kind === kind).map((k) => k.text);
    assert.ok(textsOf("tok-kw").includes("def") && textsOf("tok-kw").includes("return"),
              `Python keywords are tok-kw: ${JSON.stringify(kinds)}`);
    assert.ok(textsOf("tok-com").some((t) => t.includes("# the sum")), `the comment is tok-com: ${JSON.stringify(kinds)}`);
    assert.ok(textsOf("tok-str").some((t) => t.includes('"sum:"')), `the string is tok-str: ${JSON.stringify(kinds)}`);
    assert.ok(textsOf("tok-num").includes("42"), `42 is tok-num: ${JSON.stringify(kinds)}`);
  }
  assert.equal(await page.evaluate(() => typeof window.__pwned), "undefined", "the answer's markup must not run");
  assert.equal(await page.locator("script:not([src]):not([type='application/json'])").count(), 0,
               "no inline script anywhere on the page");
  assert.deepEqual(await pageProblems(page, problems), []);
  await context.close();
});
