// Security headers on every page and static file: a CSP that forbids framing
// and inline script, nosniff, a referrer policy; no caching of battle and
// vote responses.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { BASE, HOSTILE_BASE, pagePaths, withQuery } from "./helpers.mjs";

let paths;
before(async () => { paths = await pagePaths(); });

function assertSecurityHeaders(res, what) {
  const csp = res.headers.get("content-security-policy");
  assert.ok(csp, `${what}: Content-Security-Policy`);
  const directives = Object.fromEntries(csp.split(";").map((d) => d.trim().split(/\s+/)).filter((d) => d[0])
    .map(([name, ...values]) => [name.toLowerCase(), values]));
  assert.deepEqual(directives["frame-ancestors"], ["'none'"], `${what}: frame-ancestors 'none' in ${csp}`);
  const scripts = directives["script-src"] ?? directives["default-src"];
  assert.ok(scripts, `${what}: script-src or default-src in ${csp}`);
  assert.ok(!scripts.includes("'unsafe-inline'") && !scripts.includes("'unsafe-eval'"),
            `${what}: script-src allows inline or eval: ${csp}`);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff", `${what}: X-Content-Type-Options`);
  assert.ok(res.headers.get("referrer-policy"), `${what}: Referrer-Policy`);
}

test("every page and its static files carry the security headers", async () => {
  for (const path of paths) {
    for (const lang of ["en", "zh-CN"]) {
      const res = await fetch(`${BASE}${withQuery(path, `lang=${lang}`)}`);
      assert.equal(res.status, 200, `${path}: status`);
      assert.match(res.headers.get("content-type"), /^text\/html/, `${path}: content type`);
      assertSecurityHeaders(res, path);
      const html = await res.text();
      assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)(?![^>]*type="application\/json")[^>]*>/i, `${path}: inline <script>`);
      assert.doesNotMatch(html, /<[^>]*\son[a-z]+\s*=/i, `${path}: on* attribute`);
      assert.doesNotMatch(html, /<[^>]*\sstyle\s*=/i, `${path}: style attribute`);
      for (const [, asset] of html.matchAll(/(?:src|href)="(\/static\/[^"]+)"/g)) {
        const file = await fetch(`${BASE}${asset}`);
        assert.equal(file.status, 200, `${asset} (from ${path})`);
        assertSecurityHeaders(file, asset);
        await file.arrayBuffer();
      }
    }
  }
});

test("battle and vote responses are never cached", async () => {
  // HOSTILE_BASE: its own database, so this vote leaves BASE's boards alone.
  const started = await fetch(`${HOSTILE_BASE}/api/battles`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ prompt: "hello" }) });
  assert.equal(started.status, 201);
  assert.match(started.headers.get("cache-control") ?? "", /no-store/, "POST /api/battles: Cache-Control");
  assertSecurityHeaders(started, "POST /api/battles");
  const cookie = started.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const battle = await started.json();
  const stream = await fetch(`${HOSTILE_BASE}${battle.stream}`, { headers: { Cookie: cookie } });
  assert.match(await stream.text(), /event: turn_done/);
  const vote = await fetch(`${HOSTILE_BASE}${battle.vote}`, {
    method: "POST", headers: { "Content-Type": "application/json", Cookie: cookie }, body: JSON.stringify({ vote: "tie" }) });
  assert.equal(vote.status, 200, await vote.clone().text());
  assert.match(vote.headers.get("cache-control") ?? "", /no-store/, "the vote: Cache-Control");
  assertSecurityHeaders(vote, "the vote");
});
