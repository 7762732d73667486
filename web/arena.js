// The plain arena page: start a battle, follow both answers over server-sent
// events, vote, then show who the models were. Same-origin cookies carry the session.
"use strict";
const $ = (id) => document.getElementById(id);
let battle = null;

async function api(path, body) {
  const res = await fetch(path, {
    method: body ? "POST" : "GET",
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
    credentials: "same-origin",
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.detail || data.title || `HTTP ${res.status}`);
  return data;
}

function follow(id) {
  const events = new EventSource(`/api/battles/${id}/stream`);
  events.addEventListener("text", (e) => {
    const d = JSON.parse(e.data);
    $(`answer-${d.side}`).textContent += d.text;
  });
  events.addEventListener("error", (e) => {
    if (e.data) $("status").textContent = JSON.parse(e.data).message;
  });
  events.addEventListener("turn_done", () => {
    events.close();
    $("votes").hidden = false;
    $("status").textContent = "Both answers are complete. Which is better?";
  });
}

$("ask").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("answer-a").textContent = "";
  $("answer-b").textContent = "";
  $("votes").hidden = true;
  $("status").textContent = "Asking two anonymous models...";
  try {
    battle = await api("/api/battles", { prompt: $("prompt").value });
    follow(battle.battle_id);
  } catch (err) {
    $("status").textContent = err.message;
  }
});

document.querySelectorAll("#votes button").forEach((button) =>
  button.addEventListener("click", async () => {
    if (!battle) return;
    try {
      const r = await api(`/api/battles/${battle.battle_id}/vote`, { vote: button.dataset.vote });
      $("votes").hidden = true;
      $("status").textContent =
        `Thank you. Model A was ${r.model_a.display_name} (${r.model_a.organization || "unknown maker"}); ` +
        `model B was ${r.model_b.display_name} (${r.model_b.organization || "unknown maker"}).`;
      battle = null;
    } catch (err) {
      $("status").textContent = err.message;
    }
  }),
);

api("/api/models")
  .then((m) => { $("demo-note").hidden = !m.demo_models; })
  .catch(() => {});
