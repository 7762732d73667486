// The leaderboard page shows what the API serves: every row's rating and
// interval, the plots' marks carrying the API's numbers, a category switch
// that changes the board, and a CSV download equal to the API's CSV.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BASE, artifact, getJson, newPage, pageProblems, settledLeaderboard, useBrowser } from "./helpers.mjs";

const shared = useBrowser();

// "1,131.38" or "−12.5" as printed -> {value, decimals}.
function printedNumbers(text) {
  return [...text.replace(/[,\u202f\u00a0]/g, "").matchAll(/([-\u2212+]?)\s*(\d+)(?:\.(\d+))?/g)].map((m) => ({
    value: Number(`${m[2]}.${m[3] ?? "0"}`) * (m[1] === "-" || m[1] === "\u2212" ? -1 : 1),
    decimals: (m[3] ?? "").length,
  }));
}

function assertPrinted(printed, expected, what) {
  const slack = 0.5 * 10 ** -printed.decimals + 1e-9;
  assert.ok(Math.abs(printed.value - expected) <= slack,
            `${what}: page shows ${printed.value} (${printed.decimals} decimals), API has ${expected}`);
}

function assertClose(actual, expected, what) {
  assert.ok(Number.isFinite(actual), `${what}: data-value ${actual} is not a number`);
  assert.ok(Math.abs(actual - expected) <= 1e-6, `${what}: data-value ${actual}, API has ${expected}`);
}

async function tableRows(page) {
  return page.$$eval("#leaderboard-table tbody tr[data-model]", (rows) => rows.map((row) => {
    const cell = (name) => row.querySelector(`td.${name}`)?.textContent.trim() ?? null;
    return { model: row.dataset.model, rank: cell("rank"), rankUb: cell("rank-ub"), name: cell("model"),
             rating: cell("rating"), ci: cell("ci"), votes: cell("votes"), org: cell("org"), license: cell("license") };
  }));
}

async function snapshotId(page) {
  const id = await page.getAttribute("#snapshot", "data-snapshot-id");
  assert.ok(id && /^\d+$/.test(id), `#snapshot carries data-snapshot-id: ${id}`);
  assert.ok(await page.$("#snapshot time[datetime]"), "#snapshot has a <time datetime>");
  return Number(id);
}

function assertRowsMatch(rows, board) {
  assert.deepEqual(rows.map((r) => r.model), board.rows.map((r) => r.model),
                   "the table lists the board's models in its order");
  for (const [i, api] of board.rows.entries()) {
    const row = rows[i];
    for (const field of ["rank", "rating", "ci", "votes"]) assert.ok(row[field] !== null, `${api.model}: td.${field}`);
    assert.equal(Number(row.rank), api.rank, `${api.model}: rank`);
    assert.equal(Number(row.votes.replace(/[,\s]/g, "")), api.votes, `${api.model}: votes`);
    const [rating] = printedNumbers(row.rating);
    assertPrinted(rating, api.rating, `${api.model} rating`);
    const ci = printedNumbers(row.ci);
    assert.equal(ci.length, 2, `${api.model}: td.ci shows -x / +y, has "${row.ci}"`);
    assertPrinted({ ...ci[0], value: Math.abs(ci[0].value) }, api.rating - api.ci_lo, `${api.model} interval below`);
    assertPrinted({ ...ci[1], value: Math.abs(ci[1].value) }, api.ci_hi - api.rating, `${api.model} interval above`);
    assert.ok(row.name.includes(api.display_name), `${api.model}: td.model shows ${api.display_name}`);
  }
}

// data-row / data-col name a model or give its index in the matrices.
function matrixIndex(value, models) {
  const byName = models.indexOf(value);
  if (byName >= 0) return byName;
  assert.match(value ?? "", /^\d+$/, `data-row/data-col "${value}" is neither a model nor an index`);
  return Number(value);
}

async function assertMatrixPlot(page, figure, matrix, models) {
  const cells = await page.$$eval(`${figure} svg rect.cell`, (rects) => rects.map((r) => ({
    row: r.getAttribute("data-row"), col: r.getAttribute("data-col"), value: r.getAttribute("data-value") })));
  assert.ok(cells.length > 0, `${figure} has cells`);
  const seen = new Set();
  for (const cell of cells) {
    const i = matrixIndex(cell.row, models);
    const j = matrixIndex(cell.col, models);
    const expected = matrix[i][j];
    seen.add(`${i},${j}`);
    if (expected === null) {
      assert.ok(cell.value === null || cell.value === "" || cell.value === "null",
                `${figure} [${models[i]}][${models[j]}] is null in the API, the page has ${cell.value}`);
    } else {
      assertClose(Number(cell.value), expected, `${figure} [${models[i]}][${models[j]}]`);
    }
  }
  for (const [i, row] of matrix.entries())
    for (const [j, value] of row.entries())
      if (i !== j && value !== null) assert.ok(seen.has(`${i},${j}`), `${figure} lacks [${models[i]}][${models[j]}]`);
}

async function assertPlots(page, board, matrices, id) {
  for (const figure of ["#plot-ratings", "#plot-winrate", "#plot-winfraction", "#plot-battles", "#plot-history"]) {
    const marks = await page.locator(`${figure} svg .mark, ${figure} svg .cell`).count();
    assert.ok(marks > 0, `${figure} has an inline SVG with marks`);
  }
  const models = matrices.models;
  for (const api of board.rows) {
    const rating = await page.getAttribute(`#plot-ratings circle.mark[data-model="${api.model}"]`, "data-value");
    assertClose(Number(rating), api.rating, `#plot-ratings ${api.model}`);
    const ci = page.locator(`#plot-ratings line.ci[data-model="${api.model}"]`);
    assertClose(Number(await ci.getAttribute("data-lo")), api.ci_lo, `#plot-ratings ${api.model} data-lo`);
    assertClose(Number(await ci.getAttribute("data-hi")), api.ci_hi, `#plot-ratings ${api.model} data-hi`);

    const i = models.indexOf(api.model);
    assert.ok(i >= 0, `/api/matrices lists ${api.model}`);
    const others = matrices.predicted[i].filter((p, j) => j !== i && p !== null);
    const mean = others.reduce((sum, p) => sum + p, 0) / others.length;
    const winrate = await page.getAttribute(`#plot-winrate rect.mark[data-model="${api.model}"]`, "data-value");
    assertClose(Number(winrate), mean, `#plot-winrate ${api.model}`);

    const history = await page.getAttribute(
      `#plot-history circle.mark[data-model="${api.model}"][data-snapshot="${id}"]`, "data-value");
    assertClose(Number(history), api.rating, `#plot-history ${api.model} at snapshot ${id}`);
  }
  await assertMatrixPlot(page, "#plot-winfraction", matrices.win_fraction, models);
  await assertMatrixPlot(page, "#plot-battles", matrices.battles, models);
}

test("the leaderboard table, plots, category switch and CSV match the API", async () => {
  const overall = await settledLeaderboard();
  const { context, page, problems } = await newPage(shared.browser);
  await page.goto(`${BASE}/leaderboard?lang=en`);
  const id = await snapshotId(page);
  const board = await getJson(`${BASE}/api/leaderboard/${id}`);
  assert.equal(id, overall.snapshot_id, "the page shows the newest overall snapshot");
  const overallRows = await tableRows(page);
  assertRowsMatch(overallRows, board);

  const matrices = await getJson(`${BASE}/api/matrices`);
  assert.equal(matrices.snapshot_id, id, "/api/matrices is of the same snapshot");
  await assertPlots(page, board, matrices, id);
  await page.screenshot({ path: artifact("leaderboard-en.png"), fullPage: true });

  // Choosing a category submits the filters (pages.js) and shows that board.
  await Promise.all([page.waitForURL(/[?&]category=coding/), page.selectOption("#board-filters select[name=category]", "coding")]);
  await page.waitForLoadState("load");
  const codingId = await snapshotId(page);
  const coding = await getJson(`${BASE}/api/leaderboard/${codingId}`);
  assert.equal(coding.category, "coding", `snapshot ${codingId} is the coding board`);
  const codingRows = await tableRows(page);
  assertRowsMatch(codingRows, coding);
  assert.notDeepEqual(codingRows.map((r) => [r.model, r.votes]), overallRows.map((r) => [r.model, r.votes]),
                      "switching to coding changes the rows");

  // The CSV link is the same variant, and its bytes are the API's.
  const href = await page.getAttribute("#download-csv", "href");
  const csvUrl = new URL(href, page.url());
  assert.equal(csvUrl.pathname, "/api/leaderboard.csv");
  assert.equal(csvUrl.searchParams.get("category"), "coding", `the CSV link's variant: ${href}`);
  assert.equal(csvUrl.searchParams.get("style"), "false", `the CSV link's variant: ${href}`);
  const downloaded = await page.request.get(csvUrl.href);
  assert.equal(downloaded.status(), 200);
  const pageBytes = await downloaded.body();
  const apiBytes = Buffer.from(await (await fetch(`${BASE}/api/leaderboard.csv?category=coding&style=false`)).arrayBuffer());
  assert.ok(pageBytes.equals(apiBytes), `the CSV download differs from the API's:\n${pageBytes}\n---\n${apiBytes}`);
  const csvModels = apiBytes.toString("utf8").trim().split("\n").slice(1).map((line) => line.split(",")[1]);
  assert.deepEqual(csvModels, codingRows.map((r) => r.model), "the CSV lists the table's models");

  const jsonHref = new URL(await page.getAttribute("#download-json", "href"), page.url());
  assert.equal(jsonHref.searchParams.get("category"), "coding", `the JSON link's variant: ${jsonHref}`);
  assert.equal((await (await page.request.get(jsonHref.href)).json()).snapshot_id, codingId);
  assert.deepEqual(await pageProblems(page, problems), []);
  await context.close();
});

test("the leaderboard in Chinese", async () => {
  await settledLeaderboard();
  const { context, page, problems } = await newPage(shared.browser);
  await page.goto(`${BASE}/leaderboard?lang=zh-CN`);
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  const board = await getJson(`${BASE}/api/leaderboard/${await snapshotId(page)}`);
  assertRowsMatch(await tableRows(page), board);
  await page.screenshot({ path: artifact("leaderboard-zh.png"), fullPage: true });
  assert.deepEqual(await pageProblems(page, problems), []);
  await context.close();
});
