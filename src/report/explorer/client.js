// The unit explorer's browser script (embedded verbatim in explorer.html by page.ts; no dependencies).
// The table reads the embedded index; a unit's details are parsed from their chunk only when opened.
// Every text from the run goes into the page through textContent, never as HTML.
(function () {
  "use strict";
  var PAGE = 200;
  var SVG = "http://www.w3.org/2000/svg";
  var rows = JSON.parse(document.getElementById("explorer-index").textContent).rows;
  var byKey = new Map(rows.map(function (r) { return [r.k, r]; }));
  var chunkCache = new Map();
  var state = { q: "", cond: "", out: "", sort: "id", dir: 1, shown: PAGE, open: null };
  var view = rows;
  var tbody = document.querySelector("#units tbody");
  var more = document.getElementById("more");
  var count = document.getElementById("count");
  var detail = document.getElementById("detail");

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function num(v, d) {
    if (typeof v !== "number" || !isFinite(v)) return "n/a";
    return v !== 0 && Math.abs(v) < 0.001 ? v.toExponential(2) : v.toFixed(d === undefined ? 3 : d);
  }

  function haystack(r) { return (r.id + " " + r.x + " " + r.cat + " " + r.q).toLowerCase(); }
  var hay = rows.map(haystack);

  function recompute() {
    var q = state.q.trim().toLowerCase();
    var out = [];
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      if (state.cond && r.c !== state.cond) continue;
      if (state.out && r.o !== state.out) continue;
      if (q && hay[i].indexOf(q) < 0) continue;
      out.push(r);
    }
    var k = state.sort, dir = state.dir;
    out.sort(function (a, b) {
      var x = k === "v" ? a.v / (a.n || 1) : a[k], y = k === "v" ? b.v / (b.n || 1) : b[k];
      return (x < y ? -1 : x > y ? 1 : a.k < b.k ? -1 : a.k > b.k ? 1 : 0) * dir;
    });
    view = out;
    state.shown = PAGE;
    renderTable();
  }

  function renderTable() {
    var frag = document.createDocumentFragment();
    var n = Math.min(view.length, state.shown);
    for (var i = 0; i < n; i++) {
      var r = view[i];
      var tr = el("tr", { "data-key": r.k });
      if (r.k === state.open) tr.className = "open";
      tr.appendChild(el("td", null, r.id));
      tr.appendChild(el("td", null, r.c));
      tr.appendChild(el("td", null, r.cat));
      tr.appendChild(el("td", null, r.x));
      tr.appendChild(el("td", null, num(r.p0)));
      tr.appendChild(el("td", null, num(r.ps)));
      tr.appendChild(el("td", null, r.bin));
      tr.appendChild(el("td", { class: r.o }, r.o));
      tr.appendChild(el("td", null, r.v + "/" + r.n));
      tr.appendChild(el("td", { class: "q", title: r.q }, r.q));
      frag.appendChild(tr);
    }
    tbody.replaceChildren(frag);
    count.textContent = view.length + " of " + rows.length + " units" + (view.length > n ? " (first " + n + " shown)" : "");
    more.hidden = view.length <= n;
  }

  function chunk(i) {
    if (!chunkCache.has(i)) chunkCache.set(i, JSON.parse(document.getElementById("chunk-" + i).textContent));
    return chunkCache.get(i);
  }

  // Text with the detector's matches marked: [char_start, char_end, token_start, token_end] each.
  function marked(text, matches) {
    var frag = document.createDocumentFragment();
    var ms = (matches || []).slice().sort(function (a, b) { return a[0] - b[0]; });
    var pos = 0;
    ms.forEach(function (m) {
      if (m[0] < pos || m[1] > text.length || m[1] <= m[0]) return;
      frag.appendChild(document.createTextNode(text.slice(pos, m[0])));
      var tok = m[2] === null ? "?" : m[2] + "–" + m[3];
      frag.appendChild(el("mark", {
        "data-char-start": m[0], "data-char-end": m[1], "data-token-start": m[2], "data-token-end": m[3],
        title: "X at characters [" + m[0] + ", " + m[1] + "), generated tokens " + tok + " (inclusive)",
      }, text.slice(m[0], m[1])));
      pos = m[1];
    });
    frag.appendChild(document.createTextNode(text.slice(pos)));
    return frag;
  }

  // The prompt with its regions (instruction, negation, target, question) as nested classes.
  function regioned(text, regions) {
    var frag = document.createDocumentFragment();
    var names = regions ? Object.keys(regions).filter(function (k) { return regions[k]; }) : [];
    var cuts = [0, text.length];
    names.forEach(function (k) { cuts.push(regions[k][0], regions[k][1]); });
    cuts = cuts.filter(function (c, i, a) { return a.indexOf(c) === i; }).sort(function (a, b) { return a - b; });
    for (var i = 0; i + 1 < cuts.length; i++) {
      var s = cuts[i], e = cuts[i + 1];
      var cls = names.filter(function (k) { return regions[k][0] <= s && e <= regions[k][1]; }).map(function (k) { return "r-" + k; });
      frag.appendChild(cls.length ? el("span", { class: cls.join(" "), title: cls.join(", ").replace(/r-/g, "") }, text.slice(s, e)) : document.createTextNode(text.slice(s, e)));
    }
    return frag;
  }

  function heatmap(a) {
    var t = el("table", { class: "heat", "aria-label": "attention shares by layer" });
    var head = el("tr");
    head.appendChild(el("th", null, "layer"));
    a.layers.forEach(function (l) { head.appendChild(el("th", null, l)); });
    t.appendChild(head);
    ["instruction", "negation", "target", "question"].forEach(function (k) {
      var tr = el("tr", { "data-span": k });
      tr.appendChild(el("th", null, k));
      a[k].forEach(function (v, i) {
        var alpha = Math.max(0, Math.min(1, v));
        tr.appendChild(el("td", { style: "background: rgba(58,111,176," + alpha.toFixed(3) + ")", title: k + ", layer " + a.layers[i] + ": " + num(v), "data-v": v }));
      });
      t.appendChild(tr);
    });
    return t;
  }

  function lensCurve(lens) {
    var W = 360, H = 130, P = 28;
    var max = Math.max.apply(null, lens.mass.concat([1e-12]));
    var lo = lens.layers[0], hi = lens.layers[lens.layers.length - 1];
    var x = function (l) { return P + ((l - lo) / Math.max(1, hi - lo)) * (W - 2 * P); };
    var y = function (m) { return H - P + 8 - (m / max) * (H - P - 8 - 8); };
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "lens");
    svg.setAttribute("width", W);
    svg.setAttribute("height", H);
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    var line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", lens.layers.map(function (l, i) { return x(l).toFixed(1) + "," + y(lens.mass[i]).toFixed(1); }).join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "#3a6fb0");
    line.setAttribute("stroke-width", "2");
    svg.appendChild(line);
    [[P, H - 6, "layer " + lo + " (embeddings)"], [W - P, H - 6, "layer " + hi], [P, 12, "max " + max.toPrecision(3)]].forEach(function (t, i) {
      var tx = document.createElementNS(SVG, "text");
      tx.setAttribute("x", t[0]);
      tx.setAttribute("y", t[1]);
      tx.setAttribute("font-size", "10");
      tx.setAttribute("text-anchor", i === 1 ? "end" : "start");
      tx.textContent = t[2];
      svg.appendChild(tx);
    });
    return svg;
  }

  function seqList(title, s) {
    var p = el("p", { class: "seqs" });
    p.appendChild(el("span", { class: "sub" }, title + " (" + s.sequences.length + "): "));
    p.appendChild(document.createTextNode(s.sequences.map(function (q) { return "[" + q.join(", ") + "]"; }).join(" · ")));
    p.appendChild(el("span", { class: "sub" }, " — first tokens [" + s.first.join(", ") + "]"));
    return p;
  }

  function section(title, body) {
    var d = el("div");
    d.appendChild(el("h3", null, title));
    (Array.isArray(body) ? body : [body]).forEach(function (b) { d.appendChild(b); });
    return d;
  }

  function openUnit(key) {
    var r = byKey.get(key);
    if (!r) return false;
    var u = chunk(r.ch)[r.at];
    state.open = key;
    detail.replaceChildren();
    detail.setAttribute("data-key", key);
    detail.appendChild(el("h2", null, u.id + " · " + u.c + " · X = “" + u.x + "”"));
    var facts = el("div", { class: "facts sub" });
    [["category", u.cat], ["P0", num(u.p0)], ["P_sem", num(u.p_sem)], ["bin", u.bin], ["outcome (negative greedy)", u.o],
      ["this prompt's greedy", u.own], ["samples with X", r.v + "/" + r.n], ["seed", u.seed], ["trace", u.trace]].forEach(function (f) {
      facts.appendChild(el("span", null, f[0] + ": " + f[1]));
    });
    detail.appendChild(facts);
    var pre = el("pre", { class: "prompt" });
    pre.appendChild(regioned(u.prompt, u.regions));
    var spans = u.spans ? Object.keys(u.spans).map(function (k) { return k + " [" + u.spans[k][0] + ", " + u.spans[k][1] + ")"; }).join(" · ") : "no spans (baseline prompt)";
    detail.appendChild(section("Prompt (" + u.n_prompt_tokens + " tokens)", [pre, el("div", { class: "sub" }, "token spans: " + spans)]));
    var g = el("pre", { class: "greedy" });
    g.appendChild(marked(u.greedy.text, u.greedy.m));
    detail.appendChild(section("Greedy answer", [g, el("div", { class: "sub" }, (u.greedy.present ? "contains X; decision step " + u.greedy.step : "X absent") + " · ids [" + u.greedy.ids.join(", ") + "]")]));
    var ol = el("ol", { class: "samples", start: 0 });
    u.samples.forEach(function (s) {
      var li = el("li", { "data-sample": s.i, class: s.present ? "present" : "absent" });
      var p = el("pre");
      p.appendChild(marked(s.text, s.m));
      li.appendChild(p);
      ol.appendChild(li);
    });
    detail.appendChild(section("Samples (" + u.samples.length + ")", u.samples.length ? ol : el("p", { class: "sub" }, "no sampled completions recorded")));
    detail.appendChild(section("P_sem's sequences S(X) (token ids)", [seqList("after the prompt (P_sem)", u.sx.prompt), seqList("after the decision input (logit lens)", u.sx.decision)]));
    detail.appendChild(section("Attention at the decision step, by layer", u.attn
      ? [heatmap(u.attn), el("div", { class: "sub" }, "Mass on each span as a share of M(instruction) + M(question) (negation and target lie inside the instruction); darker = more.")]
      : el("p", { class: "sub" }, "no attention rows for this unit (analyze writes them for the negative prompt)")));
    detail.appendChild(section("Logit lens: mass of X's first tokens at the decision position", u.lens ? lensCurve(u.lens) : el("p", { class: "sub" }, "no logit-lens rows for this unit")));
    detail.hidden = false;
    renderTable();
    if (location.hash !== "#unit=" + encodeURIComponent(key)) history.replaceState(null, "", "#unit=" + encodeURIComponent(key));
    detail.scrollIntoView({ block: "start" });
    return true;
  }

  document.getElementById("q").addEventListener("input", function (e) { state.q = e.target.value; recompute(); });
  document.getElementById("cond").addEventListener("change", function (e) { state.cond = e.target.value; recompute(); });
  document.getElementById("out").addEventListener("change", function (e) { state.out = e.target.value; recompute(); });
  more.addEventListener("click", function () { state.shown += PAGE; renderTable(); });
  document.querySelectorAll("#units th").forEach(function (th) {
    th.addEventListener("click", function () {
      var k = th.getAttribute("data-k");
      state.dir = state.sort === k ? -state.dir : 1;
      state.sort = k;
      document.querySelectorAll("#units th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
      recompute();
    });
  });
  tbody.addEventListener("click", function (e) {
    var tr = e.target.closest("tr");
    if (tr) openUnit(tr.getAttribute("data-key"));
  });
  recompute();
  var m = /^#unit=(.+)$/.exec(location.hash);
  if (m) openUnit(decodeURIComponent(m[1]));
  window.sempressExplorer = { ready: performance.now(), units: rows.length, open: openUnit };
})();
