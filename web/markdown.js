// A small Markdown renderer for model answers. Answers are untrusted, so the
// result is built from DOM nodes with textContent only: no HTML in the input is
// ever interpreted, and links keep to http and https. It is re-run on every
// streamed chunk, so an unfinished construct (an open code fence, a half
// table) must still render as something sensible.
"use strict";

(function () {
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  // ---- code highlighting -------------------------------------------------

  const words = (list) => new Set(list.split(/\s+/));
  const C_LIKE = {
    line: ["//"],
    block: [["/*", "*/"]],
    quotes: "\"'",
  };
  const LANGUAGES = {
    js: Object.assign({}, C_LIKE, {
      quotes: "\"'`",
      keywords: words("async await break case catch class const continue debugger default delete do else export extends false finally for from function if import in instanceof let new null of return static super switch this throw true try typeof undefined var void while yield interface type enum implements private public protected readonly as"),
    }),
    python: {
      line: ["#"],
      block: [],
      quotes: "\"'",
      triple: true,
      keywords: words("and as assert async await break class continue def del elif else except False finally for from global if import in is lambda None nonlocal not or pass raise return True try while with yield self print len range"),
    },
    c: Object.assign({}, C_LIKE, {
      keywords: words("auto bool break case catch char class const constexpr continue default delete do double else enum explicit extern false float for friend goto if inline int long namespace new noexcept nullptr operator private protected public return short signed sizeof static struct switch template this throw true try typedef typename union unsigned using virtual void volatile while std include define"),
    }),
    java: Object.assign({}, C_LIKE, {
      keywords: words("abstract boolean break byte case catch char class const continue default do double else enum extends final finally float for if implements import instanceof int interface long new null package private protected public return short static super switch this throw throws true false try void while var String"),
    }),
    go: Object.assign({}, C_LIKE, {
      quotes: "\"'`",
      keywords: words("break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var nil true false string int error"),
    }),
    rust: Object.assign({}, C_LIKE, {
      keywords: words("as async await break const continue crate else enum extern false fn for if impl in let loop match mod move mut pub ref return self Self static struct super trait true type unsafe use where while Some None Ok Err String Vec"),
    }),
    shell: {
      line: ["#"],
      block: [],
      quotes: "\"'",
      keywords: words("if then else elif fi for while until do done case esac in function return export local echo cd exit set unset"),
    },
    sql: {
      line: ["--"],
      block: [["/*", "*/"]],
      quotes: "'\"",
      caseless: true,
      keywords: words("select from where insert into values update set delete create table drop alter add index join left right inner outer on group by order having limit offset as and or not null is in exists distinct union all primary key foreign references default case when then else end with returning count sum avg min max"),
    },
    json: { line: [], block: [], quotes: "\"", keywords: words("true false null") },
  };
  const ALIASES = {
    javascript: "js", jsx: "js", ts: "js", typescript: "js", tsx: "js", mjs: "js", node: "js",
    py: "python", python3: "python",
    cpp: "c", "c++": "c", cc: "c", cxx: "c", h: "c", hpp: "c", cs: "java", csharp: "java", "c#": "java",
    kotlin: "java", kt: "java", swift: "java", golang: "go", rs: "rust",
    sh: "shell", bash: "shell", zsh: "shell", console: "shell", postgresql: "sql", psql: "sql", mysql: "sql",
  };

  function languageFor(name) {
    const key = (name || "").toLowerCase();
    return LANGUAGES[key] || LANGUAGES[ALIASES[key]] || null;
  }

  const isIdentStart = (ch) => /[A-Za-z_$]/.test(ch);
  const isIdent = (ch) => /[A-Za-z0-9_$]/.test(ch);

  // Splits source into plain text and tok-* spans, appended to `parent`.
  function highlight(source, lang, parent) {
    const spec = languageFor(lang);
    if (!spec) {
      parent.textContent = source;
      return;
    }
    let plain = "";
    const flush = () => {
      if (plain) parent.appendChild(document.createTextNode(plain));
      plain = "";
    };
    const token = (cls, text) => {
      flush();
      parent.appendChild(el("span", cls, text));
    };
    let i = 0;
    const n = source.length;
    outer: while (i < n) {
      for (const marker of spec.line) {
        if (source.startsWith(marker, i)) {
          let end = source.indexOf("\n", i);
          if (end < 0) end = n;
          token("tok-com", source.slice(i, end));
          i = end;
          continue outer;
        }
      }
      for (const [open, close] of spec.block) {
        if (source.startsWith(open, i)) {
          let end = source.indexOf(close, i + open.length);
          end = end < 0 ? n : end + close.length;
          token("tok-com", source.slice(i, end));
          i = end;
          continue outer;
        }
      }
      const ch = source[i];
      if (spec.quotes.includes(ch)) {
        const triple = spec.triple && source.startsWith(ch + ch + ch, i);
        const close = triple ? ch + ch + ch : ch;
        let j = i + close.length;
        while (j < n) {
          if (source[j] === "\\") { j += 2; continue; }
          if (source.startsWith(close, j)) { j += close.length; break; }
          if (!triple && ch !== "`" && source[j] === "\n") break;
          j++;
        }
        j = Math.min(j, n);
        token("tok-str", source.slice(i, j));
        i = j;
        continue;
      }
      if (/[0-9]/.test(ch) && !(i > 0 && isIdent(source[i - 1]))) {
        const m = /^(0[xX][0-9a-fA-F_]+|0[bB][01_]+|\d[\d_]*(\.\d+)?([eE][+-]?\d+)?)[a-zA-Z]*/.exec(source.slice(i, i + 64));
        token("tok-num", m[0]);
        i += m[0].length;
        continue;
      }
      if (isIdentStart(ch)) {
        let j = i + 1;
        while (j < n && isIdent(source[j])) j++;
        const word = source.slice(i, j);
        if (spec.keywords.has(spec.caseless ? word.toLowerCase() : word)) token("tok-kw", word);
        else plain += word;
        i = j;
        continue;
      }
      plain += ch;
      i++;
    }
    flush();
  }

  // ---- inline ------------------------------------------------------------

  function safeUrl(raw) {
    const text = raw.trim().replace(/^<|>$/g, "");
    try {
      const url = new URL(text);
      if (url.protocol === "http:" || url.protocol === "https:") return url.href;
    } catch (_) {
      // not an absolute URL: shown as text
    }
    return null;
  }

  function link(href, children) {
    const a = el("a");
    a.href = href;
    a.rel = "noopener noreferrer nofollow";
    a.target = "_blank";
    for (const child of children) a.appendChild(child);
    return a;
  }

  const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/;
  const BARE_URL = /^https?:\/\/[^\s<>"'`]*[^\s<>"'`.,;:!?)\]}]/;

  // Finds the closing delimiter for emphasis opened at `from`, skipping code spans.
  function findClose(text, from, delim) {
    let i = from;
    while (i < text.length) {
      const ch = text[i];
      if (ch === "\\") { i += 2; continue; }
      if (ch === "`") {
        const run = /^`+/.exec(text.slice(i))[0];
        const end = text.indexOf(run, i + run.length);
        if (end > 0) { i = end + run.length; continue; }
      }
      if (text.startsWith(delim, i) && !/\s/.test(text[i - 1] || " ")) {
        if (delim.length === 1 && text[i + 1] === delim) { i += 2; continue; }
        if (delim === "_" && isIdent(text[i + 1] || " ")) { i++; continue; }
        return i;
      }
      i++;
    }
    return -1;
  }

  function inline(text) {
    const out = [];
    let plain = "";
    const flush = () => {
      if (plain) out.push(document.createTextNode(plain));
      plain = "";
    };
    let i = 0;
    while (i < text.length) {
      const ch = text[i];
      const rest = text.slice(i);
      if (ch === "\\" && i + 1 < text.length && PUNCTUATION.test(text[i + 1])) {
        plain += text[i + 1];
        i += 2;
        continue;
      }
      if (ch === "\\" && text[i + 1] === "\n") {
        flush();
        out.push(el("br"));
        i += 2;
        continue;
      }
      if (ch === "`") {
        const run = /^`+/.exec(rest)[0];
        const end = text.indexOf(run, i + run.length);
        if (end > 0) {
          flush();
          let code = text.slice(i + run.length, end).replace(/\n/g, " ");
          if (/^ .*[^ ].* $/.test(code)) code = code.slice(1, -1);
          out.push(el("code", null, code));
          i = end + run.length;
          continue;
        }
        plain += run;
        i += run.length;
        continue;
      }
      if (ch === "[") {
        const m = /^\[((?:[^\[\]\\]|\\.|\[[^\]]*\])*)\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+"[^"]*")?\s*\)/.exec(rest);
        if (m) {
          flush();
          const href = safeUrl(m[2]);
          const children = inline(m[1]);
          if (href) out.push(link(href, children));
          else out.push(...children);
          i += m[0].length;
          continue;
        }
      }
      if (ch === "<") {
        const m = /^<(https?:\/\/[^\s<>]+)>/.exec(rest);
        if (m && safeUrl(m[1])) {
          flush();
          out.push(link(safeUrl(m[1]), [document.createTextNode(m[1])]));
          i += m[0].length;
          continue;
        }
      }
      if ((ch === "h" || ch === "H") && !isIdent(text[i - 1] || " ")) {
        const m = BARE_URL.exec(rest);
        if (m && safeUrl(m[0])) {
          flush();
          out.push(link(safeUrl(m[0]), [document.createTextNode(m[0])]));
          i += m[0].length;
          continue;
        }
      }
      if (ch === "*" || ch === "_" || ch === "~") {
        const double = text[i + 1] === ch;
        if (ch === "~" && !double) { plain += ch; i++; continue; }
        const delim = double ? ch + ch : ch;
        const opensWord = !/\s/.test(text[i + delim.length] || " ");
        const intraword = ch === "_" && isIdent(text[i - 1] || " ");
        if (opensWord && !intraword) {
          const end = findClose(text, i + delim.length, delim);
          if (end > i + delim.length) {
            flush();
            const tag = ch === "~" ? "del" : double ? "strong" : "em";
            const node = el(tag);
            for (const child of inline(text.slice(i + delim.length, end))) node.appendChild(child);
            out.push(node);
            i = end + delim.length;
            continue;
          }
        }
        plain += delim;
        i += delim.length;
        continue;
      }
      if (ch === "\n") {
        // Two trailing spaces make a hard break; otherwise a soft one.
        if (plain.endsWith("  ")) {
          plain = plain.replace(/ +$/, "");
          flush();
          out.push(el("br"));
        } else {
          plain = plain.replace(/ +$/, "") + "\n";
        }
        i++;
        continue;
      }
      plain += ch;
      i++;
    }
    flush();
    return out;
  }

  function appendInline(parent, text) {
    for (const node of inline(text)) parent.appendChild(node);
    return parent;
  }

  // ---- blocks ------------------------------------------------------------

  const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/;
  const HEADING = /^ {0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$/;
  const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
  const QUOTE = /^ {0,3}>\s?/;
  const ITEM = /^( *)([-*+]|\d{1,9}[.)])(\s+|$)/;
  const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

  const blank = (line) => /^\s*$/.test(line);
  const expandTabs = (line) => line.replace(/\t/g, "    ");

  function startsBlock(line, next) {
    return (
      FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) ||
      ITEM.test(line) || (line.includes("|") && next !== undefined && TABLE_RULE.test(next) && next.includes("-"))
    );
  }

  function splitRow(line) {
    let row = line.trim();
    if (row.startsWith("|")) row = row.slice(1);
    if (row.endsWith("|") && !row.endsWith("\\|")) row = row.slice(0, -1);
    const cells = [];
    let cell = "";
    for (let i = 0; i < row.length; i++) {
      if (row[i] === "\\" && row[i + 1] === "|") { cell += "|"; i++; continue; }
      if (row[i] === "|") { cells.push(cell.trim()); cell = ""; continue; }
      cell += row[i];
    }
    cells.push(cell.trim());
    return cells;
  }

  function table(lines, start, parent) {
    const head = splitRow(lines[start]);
    const aligns = splitRow(lines[start + 1]).map((spec) =>
      spec.startsWith(":") && spec.endsWith(":") ? "center" : spec.endsWith(":") ? "right" : null);
    const wrap = el("div", "md-table");
    const t = el("table");
    const thead = el("thead");
    const headRow = el("tr");
    head.forEach((text, col) => {
      const th = appendInline(el("th"), text);
      if (aligns[col]) th.className = "align-" + aligns[col];
      headRow.appendChild(th);
    });
    thead.appendChild(headRow);
    t.appendChild(thead);
    const tbody = el("tbody");
    let i = start + 2;
    while (i < lines.length && lines[i].includes("|") && !blank(lines[i])) {
      const cells = splitRow(lines[i]);
      const tr = el("tr");
      for (let col = 0; col < head.length; col++) {
        const td = appendInline(el("td"), cells[col] || "");
        if (aligns[col]) td.className = "align-" + aligns[col];
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
      i++;
    }
    t.appendChild(tbody);
    wrap.appendChild(t);
    parent.appendChild(wrap);
    return i;
  }

  function list(lines, start, parent, options) {
    const first = ITEM.exec(lines[start]);
    const baseIndent = first[1].length;
    const ordered = /\d/.test(first[2]);
    const node = el(ordered ? "ol" : "ul");
    if (ordered) {
      const number = parseInt(first[2], 10);
      if (number !== 1) node.start = number;
    }
    let loose = false;
    let blankBefore = false;
    const items = [];
    let i = start;
    while (i < lines.length) {
      const m = ITEM.exec(lines[i]);
      if (!m || m[1].length !== baseIndent || /\d/.test(m[2]) !== ordered) break;
      if (blankBefore) loose = true;
      const contentIndent = m[1].length + m[2].length + Math.min(Math.max(m[3].length, 1), 4);
      const body = [lines[i].slice(Math.min(lines[i].length, m[0].length))];
      i++;
      let sawBlank = false;
      while (i < lines.length) {
        const line = lines[i];
        if (blank(line)) {
          sawBlank = true;
          body.push("");
          i++;
          continue;
        }
        const indent = /^ */.exec(line)[0].length;
        if (indent >= contentIndent || (indent > baseIndent && ITEM.test(line))) {
          body.push(line.slice(Math.min(indent, contentIndent)));
          sawBlank = false;
          i++;
          continue;
        }
        // Lazy continuation: a plain line right after the item's text.
        if (!sawBlank && !startsBlock(line, lines[i + 1]) && indent > baseIndent - 1 && !ITEM.test(line)) {
          body.push(line.trim());
          i++;
          continue;
        }
        break;
      }
      while (body.length && blank(body[body.length - 1])) body.pop();
      blankBefore = sawBlank;
      if (body.slice(1).some(blank)) loose = true;
      items.push(body);
    }
    for (const body of items) {
      const li = el("li");
      blocks(body, li, options);
      if (!loose) {
        // Tight lists show their text without paragraph spacing.
        for (const p of Array.from(li.children)) {
          if (p.tagName === "P") {
            while (p.firstChild) li.insertBefore(p.firstChild, p);
            li.removeChild(p);
          }
        }
      }
      node.appendChild(li);
    }
    parent.appendChild(node);
    // Trailing blank lines were consumed; hand back the next unread line.
    return i;
  }

  function blocks(lines, parent, options) {
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (blank(line)) { i++; continue; }
      let m;
      if ((m = FENCE.exec(line))) {
        const fence = m[1];
        const lang = m[2];
        const indent = /^ */.exec(line)[0].length;
        const code = [];
        i++;
        while (i < lines.length && !new RegExp("^ {0,3}" + fence[0] + "{" + fence.length + ",}\\s*$").test(lines[i])) {
          code.push(lines[i].replace(new RegExp("^ {0," + indent + "}"), ""));
          i++;
        }
        if (i >= lines.length) {
          // Still streaming: the fence is not closed yet.
          while (code.length && blank(code[code.length - 1])) code.pop();
        }
        i++; // past the closing fence
        const source = code.join("\n");
        const pre = el("pre", "md-code");
        if (lang) pre.dataset.lang = lang;
        const codeNode = el("code");
        if (lang) codeNode.className = "language-" + lang.replace(/[^\w+#-]/g, "");
        highlight(source, lang, codeNode);
        pre.appendChild(codeNode);
        parent.appendChild(codeBlock(pre, lang, source, options));
        continue;
      }
      if ((m = HEADING.exec(line))) {
        // Answer headings sit below the page's own h1/h2.
        const level = Math.min(6, m[1].length + 2);
        parent.appendChild(appendInline(el("h" + level, "md-h" + m[1].length), m[2] || ""));
        i++;
        continue;
      }
      if (RULE.test(line)) {
        parent.appendChild(el("hr"));
        i++;
        continue;
      }
      if (QUOTE.test(line)) {
        const inner = [];
        while (i < lines.length && (QUOTE.test(lines[i]) || (!blank(lines[i]) && !startsBlock(lines[i], lines[i + 1]) && inner.length))) {
          inner.push(lines[i].replace(QUOTE, ""));
          i++;
        }
        const quote = el("blockquote");
        blocks(inner, quote, options);
        parent.appendChild(quote);
        continue;
      }
      if (ITEM.test(line) && !RULE.test(line)) {
        i = list(lines, i, parent, options);
        continue;
      }
      if (line.includes("|") && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1]) && lines[i + 1].includes("-")) {
        i = table(lines, i, parent);
        continue;
      }
      const para = [line.replace(/^\s+/, "")];
      i++;
      while (i < lines.length && !blank(lines[i]) && !startsBlock(lines[i], lines[i + 1])) {
        para.push(lines[i].trim().length ? lines[i].replace(/^\s+/, "") : "");
        i++;
      }
      parent.appendChild(appendInline(el("p"), para.join("\n")));
    }
  }

  // A code block with a bar naming its language and, when the page gives the
  // button's labels, a copy button.
  function codeBlock(pre, lang, source, options) {
    if (!options || !options.copyLabel) return pre;
    const block = el("div", "md-code-block");
    const bar = el("div", "md-code-bar");
    const name = el("span", "md-code-lang", lang || "");
    name.translate = false;
    const copy = el("button", "md-code-copy", options.copyLabel);
    copy.type = "button";
    copy.translate = true;
    copy.addEventListener("click", () => {
      if (!navigator.clipboard) return;
      navigator.clipboard.writeText(source).then(() => {
        copy.textContent = options.copiedLabel || options.copyLabel;
        setTimeout(() => { copy.textContent = options.copyLabel; }, 1500);
      }, () => {});
    });
    bar.append(name, copy);
    block.append(bar, pre);
    return block;
  }

  // Replaces the children of `container` with the rendering of `text`.
  // options: {copyLabel, copiedLabel} adds a copy button to code blocks.
  function render(text, container, options) {
    const fragment = document.createDocumentFragment();
    const lines = String(text || "").replace(/\r\n?/g, "\n").split("\n").map(expandTabs);
    blocks(lines, fragment, options || null);
    container.replaceChildren(fragment);
    return container;
  }

  window.HuashanMarkdown = Object.freeze({ render, highlight });
})();
