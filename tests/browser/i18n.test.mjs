// Every page in Chinese: no visible English left outside what is marked as
// untranslatable (translate=no, another language's lang, code, the answers),
// <html lang="zh-CN">, and the language chosen by ?lang, its cookie or
// Accept-Language.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, newPage, pageProblems, useBrowser, withQuery } from "./helpers.mjs";

const shared = useBrowser({ pages: true });

// The visible text nodes a reader of the page's language must be able to read.
function visibleTexts() {
  const skipped = (element) => {
    if (element.closest("[translate=no], code, pre, script, style, template, noscript, #answer-a, #answer-b")) return true;
    const marked = element.closest("[lang]:not(html)");
    return marked !== null && !marked.getAttribute("lang").toLowerCase().startsWith("zh");
  };
  const visible = (element) => {
    const box = element.closest("option") ? element.closest("select") : element;
    if (!box || !box.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) return false;
    return box.getClientRects().length > 0;
  };
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (!text || !node.parentElement || skipped(node.parentElement) || !visible(node.parentElement)) continue;
    const where = node.parentElement;
    texts.push({ text, where: `${where.tagName.toLowerCase()}${where.id ? "#" + where.id : ""}` +
                              `${where.className && typeof where.className === "string" ? "." + where.className.split(" ").join(".") : ""}` });
  }
  return texts;
}

test("every page in zh-CN has no visible English words and differs from en", async () => {
  const { context, page, problems } = await newPage(shared.browser);
  const english = {};  // every page's untranslated text, reported together
  for (const path of shared.paths) {
    await page.goto(`${BASE}${withQuery(path, "lang=zh-CN")}`);
    assert.equal(await page.getAttribute("html", "lang"), "zh-CN", `${path}: <html lang>`);
    const zh = await page.evaluate(visibleTexts);
    assert.ok(zh.length > 0, `${path}: no visible text at all`);
    const latin = zh.filter(({ text }) => /[A-Za-z]{3,}/.test(text));
    if (latin.length > 0) english[path] = latin;

    await page.goto(`${BASE}${withQuery(path, "lang=en")}`);
    assert.equal(await page.getAttribute("html", "lang"), "en", `${path}: <html lang>`);
    const en = await page.evaluate(visibleTexts);
    assert.notDeepEqual(en.map((t) => t.text), zh.map((t) => t.text), `${path}: the en page must differ`);
  }
  assert.deepEqual(english, {}, "zh-CN pages show Latin words outside translate=no");
  assert.deepEqual(await pageProblems(page, problems), []);
  await context.close();
});

test("?lang sets a cookie the next visit keeps", async () => {
  const { context, page } = await newPage(shared.browser);
  await page.goto(`${BASE}/leaderboard?lang=zh-CN`);
  const cookie = (await context.cookies(BASE)).find((c) => c.name === "huashan_lang");
  assert.ok(cookie, "?lang sets huashan_lang");
  assert.equal(cookie.value, "zh-CN");
  assert.equal(cookie.sameSite, "Lax");
  assert.ok(cookie.expires * 1000 - Date.now() > 300 * 24 * 3600 * 1000, "the cookie lasts about a year");
  await page.goto(`${BASE}/evals`);
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN", "the cookie chooses the language");
  await context.close();
});

test("Accept-Language: zh-CN without ?lang gives zh-CN, en by default", async () => {
  for (const [options, expected] of [
    [{ locale: "zh-CN", extraHTTPHeaders: { "Accept-Language": "zh-CN,zh;q=0.9" } }, "zh-CN"],
    [{ locale: "en-US", extraHTTPHeaders: { "Accept-Language": "en-US,en;q=0.9" } }, "en"],
  ]) {
    const { context, page } = await newPage(shared.browser, options);
    for (const path of shared.paths) {
      await page.goto(`${BASE}${path}`);
      assert.equal(await page.getAttribute("html", "lang"), expected, `${path} with ${options.locale}`);
    }
    await context.close();
  }
});
