// geotune label: the page. Every change is a POST carrying the session token from the page's <meta>.
"use strict";
const TOKEN = document.querySelector('meta[name="geotune-token"]').content;
const $ = (id) => document.getElementById(id);
const S = { state: null, selected: null, queue: [], undo: [], modelVersion: -1, view: { scale: 1, x: 0, y: 0 },
            slice: null, stroke: null, pan: null };

function who() { return $("who").value.trim(); }
function say(text, error) { $("message").textContent = text || ""; $("message").className = error ? "error" : ""; }

async function api(path, body) {
  const options = body === undefined ? {} : { method: "POST", body: JSON.stringify(body),
    headers: { "content-type": "application/json", "x-geotune-token": TOKEN } };
  const response = await fetch(path, options);
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) { say(data && data.error ? data.error : response.statusText, true); throw new Error(data && data.error); }
  return data;
}
const thumb = (item, size) => `/api/thumb?item=${encodeURIComponent(item)}&size=${size || 160}`;
const colourOf = (name) => S.state.colours[S.state.classes.indexOf(name)] || "#666";

// ---------------------------------------------------------------- state and classes
async function refreshState() {
  const state = await api("/api/state");
  const first = S.state === null;
  S.state = state;
  $("project").textContent = state.project;
  const L = state.learner;
  $("progress").max = Math.max(1, L.total); $("progress").value = L.phase === "training" ? 0 : L.done;
  if (L.phase === "training") $("progress").removeAttribute("value");
  $("phase").textContent = `${L.phase}: ${L.message}`;
  $("phase").dataset.phase = L.phase;
  $("model").textContent = L.model_version ? `model v${L.model_version}, trained on ${L.trained_on} labels; ` +
    `${state.labelled} labelled, retrains every ${L.retrain_every}` : `${state.labelled} labelled, no model yet`;
  $("model").dataset.version = L.model_version; $("model").dataset.trainedOn = L.trained_on;
  drawClasses();
  if (first) setupSources();
  const featuresNow = L.phase !== "features" && L.phase !== "starting";
  const featuresJustReady = featuresNow && !S.featuresReady;  // suggestions before that are only file order
  S.featuresReady = featuresNow;
  if (L.model_version !== S.modelVersion || featuresJustReady || first) {
    S.modelVersion = L.model_version;
    await refreshQueue();
    if (!$("tab-sections").classList.contains("hidden")) loadOverlays();
    if (!$("tab-review").classList.contains("hidden")) refreshReview();
  }
}

function drawClasses() {
  const bar = $("classes"); const names = S.state.classes;
  if (!S.selected || !names.includes(S.selected)) S.selected = names[0] || null;
  bar.innerHTML = "";
  names.forEach((name, k) => {
    const b = document.createElement("button");
    b.className = "cls" + (name === S.selected ? " selected" : ""); b.style.background = S.state.colours[k];
    b.textContent = `${k < 9 ? k + 1 + " " : ""}${name} (${S.state.counts[name] || 0})`; b.dataset.cls = name;
    b.onclick = () => { S.selected = name; if ($("tab-label").classList.contains("hidden")) drawClasses(); else labelCurrent(name); };
    bar.appendChild(b);
  });
}

async function addClass() {
  const name = $("newclass").value.trim(); if (!name) return;
  await api("/api/classes", { name }); $("newclass").value = ""; await refreshState();
}

// ---------------------------------------------------------------- labelling patches
async function refreshQueue() {
  const data = await api(`/api/next?n=${Math.max(6, S.state.learner.retrain_every)}`);
  S.queue = data.items; drawQueue();
  // which model chose this queue, and whether features were ready (before, it is file order): tests wait on them
  $("current").dataset.modelVersion = data.model_version; $("current").dataset.features = S.featuresReady ? "1" : "";
}

function card(entry, onclick) {
  const div = document.createElement("div"); div.className = "card"; div.dataset.item = entry.item;
  const img = document.createElement("img"); img.src = thumb(entry.item, 120); img.alt = entry.item; div.appendChild(img);
  if (entry.label) { const b = document.createElement("span"); b.className = "badge"; b.textContent = entry.label;
    b.style.background = colourOf(entry.label); div.appendChild(b); }
  if (entry.prediction) { const p = document.createElement("span"); p.className = "pred";
    p.textContent = `${entry.prediction.class} ${(entry.prediction.confidence * 100).toFixed(0)}%`;
    p.style.background = colourOf(entry.prediction.class); div.appendChild(p); }
  const caption = document.createElement("div"); caption.textContent = entry.item; div.appendChild(caption);
  if (onclick) div.onclick = onclick;
  return div;
}

function drawQueue() {
  const current = S.queue[0];
  $("current").src = current ? thumb(current.item, 256) : "";
  $("current").dataset.item = current ? current.item : "";
  $("current-info").textContent = current ? current.item + (current.prediction ?
    ` — model: ${current.prediction.class} (${(current.prediction.confidence * 100).toFixed(0)}%)` : "") :
    "nothing left to label";
  const queue = $("queue"); queue.innerHTML = "";
  S.queue.slice(1).forEach((entry, i) => queue.appendChild(card(entry, () => {
    S.queue.unshift(S.queue.splice(i + 1, 1)[0]); drawQueue(); })));
}

async function labelCurrent(name) {
  const current = S.queue[0]; if (!current || !name) return;
  const result = await api("/api/label", { item: current.item, label: name, who: who() });
  S.undo.push(result.undo); S.queue.shift();
  say(`${current.item}: ${name}`);
  drawQueue();
  if (S.queue.length === 0) await refreshQueue();
  await refreshState();
}

async function undo() {
  const id = S.undo.pop(); if (id === undefined) { say("nothing to undo"); return; }
  const result = await api("/api/undo", { undo: id });
  say(`undone (${result.undone}${result.item ? " " + result.item : ""})`);
  if (result.undone === "label") await refreshQueue(); else loadOverlays();
  await refreshState();
}

// ---------------------------------------------------------------- sections
function volumes() { return (S.state.sources || []).filter((s) => s.kind === "volume" && !s.error); }

function setupSources() {
  const select = $("source"); select.innerHTML = "";
  volumes().forEach((v) => { const o = document.createElement("option"); o.value = o.textContent = v.name; select.appendChild(o); });
  setupAxes();
}

function setupAxes() {
  const volume = volumes().find((v) => v.name === $("source").value); const axis = $("axis");
  axis.innerHTML = "";
  if (!volume) return;
  volume.axes.forEach((a) => { const o = document.createElement("option"); o.value = o.textContent = a; axis.appendChild(o); });
  setupIndex();
}

function setupIndex() {
  const volume = volumes().find((v) => v.name === $("source").value); if (!volume) return;
  const n = volume.counts[$("axis").value];
  $("slider").max = $("index").max = n - 1;
  const middle = Math.floor(n / 2); $("slider").value = $("index").value = Math.min(middle, n - 1);
  loadSlice();
}

function sliceQuery() {
  return `source=${encodeURIComponent($("source").value)}&axis=${$("axis").value}&index=${$("index").value}`;
}

function loadSlice() {
  if (!$("source").value) return;
  S.slice = { source: $("source").value, axis: $("axis").value, index: Number($("index").value) };
  const img = $("slice-img");
  img.onload = () => {
    const canvas = $("draw"); canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    for (const el of [canvas, $("pred-img"), $("mask-img")]) { el.style.width = img.naturalWidth + "px"; el.style.height = img.naturalHeight + "px"; }
    img.dataset.loaded = "1"; if (!S.view.fitted) fit(); loadOverlays();
  };
  img.dataset.loaded = "";
  img.src = `/api/slice?${sliceQuery()}&cmap=${$("cmap").value}&t=${Date.now()}`;
}

async function loadOverlays() {
  if (!S.slice) return;
  const stamp = Date.now();
  $("mask-img").src = `/api/slice/mask?${sliceQuery()}&t=${stamp}`;
  $("pred-img").style.display = $("show-pred").checked ? "" : "none";
  if ($("show-pred").checked && S.modelVersion > 0) $("pred-img").src = `/api/slice/prediction?${sliceQuery()}&v=${S.modelVersion}`;
  const data = await api(`/api/slice/points?${sliceQuery()}`);
  drawPoints(data.points);
}

function drawPoints(points) {
  const canvas = $("draw"); const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const half = S.state.patch_size / 2;
  points.forEach((p) => {  // the labelled patch: its class colour, outlined in black and white to show on any colour map
    const [x, y, w] = [p.col - half, p.row - half, 2 * half];
    ctx.globalAlpha = 0.35; ctx.fillStyle = colourOf(p.label); ctx.fillRect(x, y, w, w); ctx.globalAlpha = 1;
    ctx.lineWidth = 2; ctx.strokeStyle = "#000"; ctx.strokeRect(x, y, w, w);
    ctx.lineWidth = 1; ctx.strokeStyle = "#fff"; ctx.strokeRect(x + 1, y + 1, w - 2, w - 2); });
  S.points = points;
}

function applyView() { $("stage").style.transform = `translate(${S.view.x}px, ${S.view.y}px) scale(${S.view.scale})`; }
function fit() {
  const img = $("slice-img"); const port = $("viewport").getBoundingClientRect();
  S.view.scale = Math.min(port.width / img.naturalWidth, port.height / img.naturalHeight) || 1;
  S.view.x = 0; S.view.y = 0; S.view.fitted = true; applyView();
}

function slicePoint(event) {
  const rect = $("slice-img").getBoundingClientRect(); const img = $("slice-img");
  return [(event.clientY - rect.top) / rect.height * img.naturalHeight, (event.clientX - rect.left) / rect.width * img.naturalWidth];
}
const mode = () => document.querySelector('input[name="mode"]:checked').value;

function setupViewport() {
  const port = $("viewport");
  port.addEventListener("contextmenu", (e) => e.preventDefault());
  port.addEventListener("wheel", (e) => {
    e.preventDefault(); const rect = port.getBoundingClientRect();
    const factor = e.deltaY < 0 ? 1.2 : 1 / 1.2; const mx = e.clientX - rect.left; const my = e.clientY - rect.top;
    S.view.x = mx - (mx - S.view.x) * factor; S.view.y = my - (my - S.view.y) * factor; S.view.scale *= factor; applyView();
  }, { passive: false });
  port.addEventListener("mousedown", (e) => {
    if (!S.slice) return;
    if (e.button === 2 || mode() === "pan") { S.pan = [e.clientX - S.view.x, e.clientY - S.view.y]; return; }
    const [row, col] = slicePoint(e);
    if (mode() === "point") { labelPoint(row, col); return; }
    S.stroke = [[row, col]]; paintPreview();
  });
  window.addEventListener("mousemove", (e) => {
    if (S.pan) { S.view.x = e.clientX - S.pan[0]; S.view.y = e.clientY - S.pan[1]; applyView(); return; }
    if (S.stroke) { S.stroke.push(slicePoint(e)); paintPreview(); }
  });
  window.addEventListener("mouseup", () => { S.pan = null; if (S.stroke) { const points = S.stroke; S.stroke = null; sendStroke(points); } });
}

function paintPreview() {
  const ctx = $("draw").getContext("2d"); const r = Number($("radius").value);
  ctx.fillStyle = mode() === "erase" ? "rgba(255,255,255,0.5)" : colourOf(S.selected);
  const [row, col] = S.stroke[S.stroke.length - 1];
  ctx.beginPath(); ctx.arc(col, row, r, 0, 2 * Math.PI); ctx.fill();
}

async function sendStroke(points) {
  const body = { ...S.slice, label: mode() === "erase" ? "" : S.selected, radius: Number($("radius").value),
                 points: points.map(([r, c]) => [Math.round(r), Math.round(c)]), who: who() };
  const result = await api("/api/stroke", body);
  S.undo.push(result.undo); say(`mask saved (${points.length} points)`); loadOverlays();
}

async function labelPoint(row, col) {
  if (!S.selected) { say("add a class first", true); return; }
  const result = await api("/api/point", { ...S.slice, row: Math.round(row), col: Math.round(col), label: S.selected, who: who() });
  S.undo.push(result.undo); say(`${result.item}: ${result.label}`); loadOverlays(); refreshState();
}

// ---------------------------------------------------------------- review
async function refreshReview() {
  const L = S.state.learner; drawCurve(L.curve);
  const counts = $("counts"); counts.innerHTML = "";
  S.state.classes.forEach((c) => { const tr = counts.insertRow(); tr.insertCell().textContent = c; tr.insertCell().textContent = S.state.counts[c] || 0; });
  const suspects = $("suspects"); suspects.innerHTML = "";
  L.suspects.forEach((s) => { const div = card({ item: s.item, label: s.given },
    () => relabel(s.item, s.suggested)); div.title = `click to relabel as ${s.suggested}`;
    const hint = document.createElement("div"); hint.textContent = `looks like ${s.suggested} (+${s.score.toFixed(2)})`;
    hint.style.color = colourOf(s.suggested); div.appendChild(hint); suspects.appendChild(div); });
  if (!L.suspects.length) suspects.textContent = "none";
  const data = await api(`/api/items?filter=${$("filter").value}&limit=120`);
  const items = $("items"); items.innerHTML = "";
  data.items.forEach((entry) => items.appendChild(card(entry)));
}

async function relabel(item, label) {
  const result = await api("/api/label", { item, label, who: who() }); S.undo.push(result.undo); await refreshState(); refreshReview();
}

function drawCurve(curve) {
  const svg = $("curve"); const W = 520, H = 240, P = 36; svg.innerHTML = "";
  const ns = "http://www.w3.org/2000/svg"; const el = (tag, attrs, text) => { const e = document.createElementNS(ns, tag);
    Object.entries(attrs).forEach(([k, v]) => e.setAttribute(k, v)); if (text) e.textContent = text; svg.appendChild(e); return e; };
  el("line", { x1: P, y1: H - P, x2: W - 10, y2: H - P, stroke: "#333" }); el("line", { x1: P, y1: 10, x2: P, y2: H - P, stroke: "#333" });
  el("text", { x: W / 2, y: H - 6, "font-size": 12 }, "labels"); el("text", { x: 2, y: 14, "font-size": 12 }, "accuracy");
  if (!curve.length) { el("text", { x: W / 2 - 60, y: H / 2, "font-size": 12 }, "no validation yet"); return; }
  const maxN = Math.max(...curve.map((c) => c.labels));
  const X = (n) => P + (W - P - 20) * n / maxN; const Y = (a) => H - P - (H - P - 20) * a;
  [0, 0.5, 1].forEach((a) => el("text", { x: 4, y: Y(a) + 4, "font-size": 10 }, a.toFixed(1)));
  el("polyline", { points: curve.map((c) => `${X(c.labels)},${Y(c.accuracy)}`).join(" "), fill: "none", stroke: "#1f77b4", "stroke-width": 2 });
  curve.forEach((c) => el("text", { x: X(c.labels) - 6, y: H - P + 14, "font-size": 10 }, String(c.labels)));
  curve.forEach((c) => el("circle", { cx: X(c.labels), cy: Y(c.accuracy), r: 3, fill: "#1f77b4", "data-labels": c.labels, "data-accuracy": c.accuracy }));
}

// ---------------------------------------------------------------- wiring
function showTab(name) {
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("hidden", t.id !== `tab-${name}`));
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  if (name === "review") refreshReview();
  if (name === "sections") { S.view.fitted = false; loadSlice(); }
  drawClasses();
}

document.addEventListener("keydown", (e) => {
  if (e.target.tagName === "INPUT" && e.target.type !== "radio" && e.target.type !== "checkbox" && e.target.type !== "range") return;
  if (e.key === "z" || (e.key === "z" && e.ctrlKey)) { e.preventDefault(); undo(); return; }
  const k = Number(e.key);
  if (k >= 1 && k <= 9 && S.state && k <= S.state.classes.length) {
    const name = S.state.classes[k - 1]; S.selected = name;
    if (!$("tab-label").classList.contains("hidden")) labelCurrent(name); else drawClasses();
  }
  if (e.key === "s" && S.queue.length) { S.queue.push(S.queue.shift()); drawQueue(); }
});

window.addEventListener("load", () => {
  $("who").value = localStorage.getItem("geotune-who") || "";
  $("who").onchange = () => localStorage.setItem("geotune-who", who());
  $("addclassbtn").onclick = addClass; $("undo").onclick = undo;
  $("retrain").onclick = () => api("/api/retrain", {}).then(() => say("retraining"));
  document.querySelectorAll("#tabs button").forEach((b) => b.onclick = () => showTab(b.dataset.tab));
  $("source").onchange = setupAxes; $("axis").onchange = setupIndex; $("cmap").onchange = loadSlice;
  $("slider").oninput = () => { $("index").value = $("slider").value; };
  $("slider").onchange = loadSlice; $("index").onchange = () => { $("slider").value = $("index").value; loadSlice(); };
  $("show-pred").onchange = loadOverlays; $("zoom-reset").onclick = fit; $("filter").onchange = refreshReview;
  setupViewport();
  refreshState();
  setInterval(() => refreshState().catch(() => {}), 1000);
});
