// The arena round: start a battle, follow both anonymous answers over
// server-sent events, allow follow-ups, take the vote, then show who the
// models were. Every visible text comes from the page's ui-strings; model
// output goes through HuashanMarkdown (DOM nodes only, never HTML).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const SIDES = ["a", "b"];
  const STATE_KEYS = {
    idle: "arena.state_idle",
    streaming: "arena.state_streaming",
    done: "arena.state_done",
    failed: "arena.state_failed",
  };

  let strings = {};
  try {
    strings = JSON.parse(($("ui-strings") || {}).textContent || "{}");
  } catch (_) {
    strings = {};
  }
  const t = (key) => (Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key);

  // A string with its {name} placeholders filled; values are data (numbers,
  // model letters) and stay untranslated, so they get translate="no".
  function phrase(key, params) {
    const out = document.createDocumentFragment();
    const text = t(key);
    const pattern = /\{(\w+)\}/g;
    let last = 0;
    let m;
    while ((m = pattern.exec(text))) {
      if (m.index > last) out.appendChild(document.createTextNode(text.slice(last, m.index)));
      const value = params && Object.prototype.hasOwnProperty.call(params, m[1]) ? String(params[m[1]]) : m[0];
      const span = document.createElement("span");
      span.translate = false;
      span.textContent = value;
      out.appendChild(span);
      last = pattern.lastIndex;
    }
    if (last < text.length) out.appendChild(document.createTextNode(text.slice(last)));
    return out;
  }

  const form = $("ask");
  const promptBox = $("prompt");
  const categoryBox = $("category");
  const sendButton = $("send");
  const statusLine = $("status");
  const voteButtons = Array.from(document.querySelectorAll("#votes button[data-vote]"));
  const newRoundButton = $("new-round");
  const followupForm = $("followup");
  const followupBox = $("followup-prompt");
  const followupButton = $("followup-send");

  // The current round, or null. Async answers check they still belong to it.
  let round = null;

  function setStatus(kind, key, params, detail) {
    statusLine.dataset.kind = kind;
    statusLine.replaceChildren(phrase(key, params));
    if (detail) {
      // Server details are English text from the API; marked as such.
      const span = document.createElement("span");
      span.className = "status-detail";
      span.lang = "en";
      span.translate = false;
      span.textContent = detail;
      statusLine.append(" ", span);
    }
  }

  // ---- HTTP ---------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, detail, retryAfter) {
      super(detail || `HTTP ${status}`);
      this.status = status;
      this.detail = detail;
      this.retryAfter = retryAfter;
    }
  }

  async function api(path, body) {
    let res;
    try {
      res = await fetch(path, {
        method: body ? "POST" : "GET",
        headers: body ? { "Content-Type": "application/json", Accept: "application/json" } : { Accept: "application/json" },
        body: body ? JSON.stringify(body) : undefined,
        credentials: "same-origin",
      });
    } catch (_) {
      throw new ApiError(0, "", null);
    }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      throw new ApiError(res.status, (data && (data.detail || data.title)) || "", res.headers.get("Retry-After"));
    }
    return data;
  }

  function retrySeconds(header) {
    if (!header) return null;
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.max(1, Math.ceil(seconds));
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.max(1, Math.ceil((date - Date.now()) / 1000));
    return null;
  }

  function showError(err) {
    const status = err instanceof ApiError ? err.status : 0;
    const detail = err instanceof ApiError ? err.detail : "";
    if (status === 0) return setStatus("error", "arena.error_network");
    if (status === 429) {
      const seconds = retrySeconds(err.retryAfter);
      return seconds === null
        ? setStatus("ratelimit", "arena.error_ratelimit_soon")
        : setStatus("ratelimit", "arena.error_ratelimit", { seconds });
    }
    if (status === 400 || status === 413 || status === 422) return setStatus("error", "arena.error_bad_request", null, detail);
    if (status === 404) return setStatus("error", "arena.error_not_found");
    if (status === 409) return setStatus("error", "arena.error_conflict", null, detail);
    if (status === 502 || status === 503 || status === 504) return setStatus("error", "arena.error_unavailable");
    return setStatus("error", "arena.error_server", { status }, detail);
  }

  // ---- the two sides ------------------------------------------------------

  function setSideState(side, state) {
    const answer = $(`answer-${side}`);
    answer.dataset.state = state;
    answer.setAttribute("aria-busy", state === "streaming" ? "true" : "false");
    $(`side-${side}`).dataset.state = state;
    $(`state-${side}`).textContent = t(STATE_KEYS[state]);
  }

  function addUserMessage(turn, text) {
    for (const side of SIDES) {
      const message = document.createElement("div");
      message.className = "message user";
      message.dataset.turn = String(turn);
      // Prompts and answers are judged verbatim: page translation must leave them alone.
      message.translate = false;
      const label = document.createElement("span");
      label.className = "visually-hidden";
      label.translate = true;
      label.textContent = t("arena.you") + ": ";
      const body = document.createElement("p");
      body.className = "message-text";
      body.textContent = text;
      message.append(label, body);
      $(`answer-${side}`).appendChild(message);
    }
  }

  function addAssistantMessages(turn) {
    const nodes = {};
    for (const side of SIDES) {
      const message = document.createElement("div");
      message.className = "message assistant streaming";
      message.dataset.turn = String(turn);
      message.translate = false;
      message.dataset.side = side;
      $(`answer-${side}`).appendChild(message);
      nodes[side] = message;
    }
    return nodes;
  }

  const markdownOptions = { copyLabel: t("arena.copy_code"), copiedLabel: t("arena.copied") };

  function renderAnswer(node, text) {
    window.HuashanMarkdown.render(text, node, markdownOptions);
  }

  function markFailed(node, detail) {
    node.classList.remove("streaming");
    node.classList.add("failed");
    const note = document.createElement("p");
    note.className = "failure";
    note.translate = true;
    note.textContent = t("arena.side_failed_message");
    if (detail) {
      const span = document.createElement("span");
      span.lang = "en";
      span.translate = false;
      span.className = "failure-detail";
      span.textContent = detail;
      note.append(" ", span);
    }
    node.appendChild(note);
  }

  // ---- controls -----------------------------------------------------------

  function setVotesEnabled(enabled) {
    for (const button of voteButtons) button.disabled = !enabled;
  }

  function setFollowupEnabled(enabled) {
    followupBox.disabled = !enabled;
    followupButton.disabled = !enabled;
  }

  const votesEnabled = () => voteButtons.length > 0 && !voteButtons[0].disabled;

  function clearRound() {
    if (round && round.source) round.source.close();
    round = null;
    for (const side of SIDES) {
      $(`answer-${side}`).replaceChildren();
      setSideState(side, "idle");
      $(`reveal-${side}`).hidden = true;
      $(`name-${side}`).textContent = "";
      $(`org-${side}`).textContent = "";
      $(`license-${side}`).textContent = "";
      $(`pick-${side}`).hidden = true;
      $(`side-${side}`).classList.remove("picked");
    }
    for (const button of voteButtons) {
      button.removeAttribute("aria-pressed");
      button.classList.remove("chosen");
    }
    setVotesEnabled(false);
    setFollowupEnabled(false);
    followupBox.value = "";
    followupForm.hidden = true;
    newRoundButton.classList.remove("primary");
    sendButton.disabled = false;
  }

  // ---- one turn's stream ----------------------------------------------------

  function follow(current, streamUrl, turn) {
    const nodes = addAssistantMessages(turn);
    const text = { a: "", b: "" };
    const state = { a: "streaming", b: "streaming" };
    let opened = 0;
    for (const side of SIDES) setSideState(side, "streaming");
    sendButton.disabled = true;
    setVotesEnabled(false);
    setFollowupEnabled(false);
    setStatus("info", "arena.status_streaming");

    const source = new EventSource(streamUrl);
    current.source = source;
    const live = () => round === current && current.source === source;
    const parse = (event) => {
      try {
        return JSON.parse(event.data);
      } catch (_) {
        return null;
      }
    };

    source.addEventListener("open", () => {
      if (!live()) return;
      // A reconnect replays the turn from its first event.
      if (opened++ > 0) {
        for (const side of SIDES) {
          if (state[side] !== "streaming") continue;
          text[side] = "";
          renderAnswer(nodes[side], "");
        }
      }
    });

    source.addEventListener("text", (event) => {
      const data = parse(event);
      if (!live() || !data || data.turn !== turn || !nodes[data.side] || state[data.side] !== "streaming") return;
      text[data.side] += data.text || "";
      renderAnswer(nodes[data.side], text[data.side]);
    });

    source.addEventListener("done", (event) => {
      const data = parse(event);
      if (!live() || !data || data.turn !== turn || !nodes[data.side]) return;
      state[data.side] = "done";
      nodes[data.side].classList.remove("streaming");
      nodes[data.side].dataset.finish = data.finish_reason || "";
      setSideState(data.side, "done");
    });

    source.addEventListener("error", (event) => {
      if (!live()) return;
      const data = event.data ? parse(event) : null;
      if (data && data.side) {
        if (data.turn !== turn || !nodes[data.side]) return;
        state[data.side] = "failed";
        current.failed = current.failed || data.side;
        markFailed(nodes[data.side], data.message);
        setSideState(data.side, "failed");
        return;
      }
      if (source.readyState === EventSource.CLOSED) {
        // The stream could not be opened or kept: this turn is lost.
        for (const side of SIDES) {
          if (state[side] !== "streaming") continue;
          state[side] = "failed";
          markFailed(nodes[side]);
          setSideState(side, "failed");
        }
        current.failed = current.failed || "a";
        sendButton.disabled = false;
        setStatus("error", "arena.error_stream");
      }
    });

    source.addEventListener("turn_done", (event) => {
      const data = parse(event);
      if (!live() || (data && data.turn !== undefined && data.turn !== turn)) return;
      source.close();
      for (const side of SIDES) {
        if (state[side] === "streaming") {
          state[side] = "done";
          nodes[side].classList.remove("streaming");
          setSideState(side, "done");
        }
      }
      current.turnDone = true;
      sendButton.disabled = false;
      if (current.failed) {
        const side = state.a === "failed" ? "A" : "B";
        setStatus("error", "arena.status_side_failed", { side });
        return;
      }
      setVotesEnabled(true);
      setFollowupEnabled(true);
      setStatus("info", "arena.status_turn_done");
    });
  }

  // ---- actions --------------------------------------------------------------

  async function startRound() {
    const prompt = promptBox.value;
    if (!prompt.trim()) {
      setStatus("error", "arena.status_empty_prompt");
      promptBox.focus();
      return;
    }
    clearRound();
    const current = { id: null, turn: 1, source: null, failed: null, turnDone: false, voted: false };
    round = current;
    sendButton.disabled = true;
    setStatus("info", "arena.status_starting");
    const body = { prompt };
    if (categoryBox.value) body.category = categoryBox.value;
    let started;
    try {
      started = await api("/api/battles", body);
    } catch (err) {
      if (round !== current) return;
      round = null;
      sendButton.disabled = false;
      showError(err);
      return;
    }
    if (round !== current) return;
    current.id = started.battle_id;
    promptBox.value = "";
    followupForm.hidden = false;
    addUserMessage(1, prompt);
    follow(current, started.stream || `/api/battles/${encodeURIComponent(current.id)}/stream`, 1);
    const sides = document.querySelector(".sides");
    if (sides && sides.getBoundingClientRect().top > window.innerHeight * 0.6) {
      sides.scrollIntoView({ block: "start", behavior: "smooth" });
    }
  }

  async function askFollowup() {
    const current = round;
    const prompt = followupBox.value;
    if (!current || !current.turnDone || current.voted || current.failed) return;
    if (!prompt.trim()) {
      setStatus("error", "arena.status_empty_prompt");
      followupBox.focus();
      return;
    }
    setFollowupEnabled(false);
    setVotesEnabled(false);
    sendButton.disabled = true;
    setStatus("info", "arena.status_starting");
    let answer;
    try {
      answer = await api(`/api/battles/${encodeURIComponent(current.id)}/turns`, { prompt });
    } catch (err) {
      if (round !== current) return;
      sendButton.disabled = false;
      setVotesEnabled(true);
      setFollowupEnabled(true);
      showError(err);
      return;
    }
    if (round !== current) return;
    const turn = Number(answer.turn) || current.turn + 1;
    current.turn = turn;
    current.turnDone = false;
    followupBox.value = "";
    addUserMessage(turn, prompt);
    follow(current, answer.stream || `/api/battles/${encodeURIComponent(current.id)}/stream`, turn);
  }

  function reveal(side, model) {
    $(`name-${side}`).textContent = (model && (model.display_name || model.name)) || "?";
    const org = $(`org-${side}`);
    const license = $(`license-${side}`);
    org.textContent = (model && model.organization) || t("arena.unknown");
    license.textContent = (model && model.license) || t("arena.unknown");
    // The fallback is a translated word, not data.
    org.translate = Boolean(!(model && model.organization));
    license.translate = Boolean(!(model && model.license));
    $(`reveal-${side}`).hidden = false;
  }

  async function vote(choice) {
    const current = round;
    if (!current || !current.turnDone || current.voted || !votesEnabled()) return;
    setVotesEnabled(false);
    setFollowupEnabled(false);
    setStatus("info", "arena.status_voting");
    let result;
    try {
      result = await api(`/api/battles/${encodeURIComponent(current.id)}/vote`, { vote: choice });
    } catch (err) {
      if (round !== current) return;
      // A rate limit or a too-early vote can be retried; the others end the round.
      if (err instanceof ApiError && (err.status === 0 || err.status === 429 || err.status === 409 || err.status >= 500)) {
        setVotesEnabled(true);
        setFollowupEnabled(true);
      }
      showError(err);
      return;
    }
    if (round !== current) return;
    current.voted = true;
    for (const button of voteButtons) {
      const chosen = button.dataset.vote === choice;
      button.setAttribute("aria-pressed", chosen ? "true" : "false");
      button.classList.toggle("chosen", chosen);
    }
    reveal("a", result.model_a);
    reveal("b", result.model_b);
    if (choice === "a" || choice === "b") {
      $(`pick-${choice}`).hidden = false;
      $(`side-${choice}`).classList.add("picked");
    }
    followupForm.hidden = true;
    newRoundButton.classList.add("primary");
    setStatus("info", "arena.status_voted");
  }

  function newRound() {
    clearRound();
    promptBox.value = "";
    setStatus("info", "arena.status_cleared");
    promptBox.focus();
  }

  // ---- wiring ----------------------------------------------------------------

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (sendButton.disabled) return;
    startRound();
  });

  followupForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (followupButton.disabled) return;
    askFollowup();
  });

  for (const button of voteButtons) {
    button.addEventListener("click", () => vote(button.dataset.vote));
  }

  newRoundButton.addEventListener("click", newRound);

  const isTextField = (node) =>
    node instanceof HTMLElement &&
    (node.isContentEditable || node.tagName === "TEXTAREA" || node.tagName === "SELECT" ||
      (node.tagName === "INPUT" && !["button", "submit", "reset", "checkbox", "radio"].includes(node.type)));

  const SHORTCUT_VOTES = { 1: "a", 2: "b", 3: "tie", 4: "bothbad" };

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      const target = event.target instanceof Element ? event.target.closest("form") : null;
      if (target === form || target === followupForm) {
        event.preventDefault();
        const button = target === form ? sendButton : followupButton;
        if (!button.disabled) target.requestSubmit(button);
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (isTextField(event.target)) return;
    const choice = SHORTCUT_VOTES[event.key];
    if (choice) {
      if (votesEnabled()) {
        event.preventDefault();
        vote(choice);
      }
      return;
    }
    if (event.key === "n" || event.key === "N") {
      event.preventDefault();
      newRound();
    }
  });

  api("/api/models")
    .then((models) => {
      $("demo-note").hidden = !(models && models.demo_models);
    })
    .catch(() => {});
})();
