// parsl_nb DAG widget: a canvas view of the task graph, fed by binary snapshots and patches.
// Wire format: see parsl_nb/widgets/_codec.py. Layout comes from Python; this file only draws.

const DX = 30, DY = 56, R = 10, GW = 190, GH = 64, LIST_LIMIT = 600, WRAP = 64;
const BUCKET_NAMES = ["pending", "running", "done", "failed"];
const BUCKET_COLORS = ["#f0ad4e", "#0275d8", "#2e7d32", "#c62828"];
const BUCKET = [0, 0, 1, 1, 1, 0, 2, 2, 3, 3, 3]; // state value -> pending/running/done/failed
const stores = new Map();

function bytesOf(x) {
  if (!x) return null;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return null;
}

export function decode(raw) {
  const b = bytesOf(raw).slice(); // an aligned copy
  const dv = new DataView(b.buffer);
  if (b.byteLength < 32 || dv.getUint8(0) !== 1) throw new Error("parsl_nb: unknown DAG message version");
  const m = {
    kind: dv.getUint8(1), seq: dv.getUint32(4, true), first: dv.getUint32(8, true),
    n: dv.getUint32(12, true), ne: dv.getUint32(16, true), nc: dv.getUint32(20, true),
    appBase: dv.getUint32(24, true),
  };
  const napps = dv.getUint32(28, true);
  let off = 32;
  const take = (Ctor, count) => {
    const a = new Ctor(b.buffer, off, count);
    off += a.byteLength + ((4 - (a.byteLength % 4)) % 4);
    return a;
  };
  m.tid = take(Int32Array, m.n); m.layer = take(Int32Array, m.n); m.slot = take(Int32Array, m.n);
  m.app = take(Uint16Array, m.n); m.state = take(Uint8Array, m.n); m.edges = take(Int32Array, 2 * m.ne);
  m.ci = take(Int32Array, m.nc); m.cs = take(Uint8Array, m.nc);
  m.apps = napps ? JSON.parse(new TextDecoder().decode(b.subarray(off, off + napps))) : [];
  return m;
}

// The graph as the front end holds it: one per widget model, shared by all its views.
class Store {
  constructor(model) {
    this.model = model; this.listeners = new Set(); this.details = new Map();
    this.resyncs = 0; this.lastAsk = 0;
    this.ui = { expanded: null, selected: null, cam: null, userCam: false };
    this.reset();
  }
  reset() {
    this.n = 0; this.ne = 0; this.seq = -1; this.apps = [];
    this.tid = new Int32Array(1024); this.layer = new Int32Array(1024); this.slot = new Int32Array(1024);
    this.app = new Uint16Array(1024); this.state = new Uint8Array(1024); this.edges = new Int32Array(2048);
    this.index = new Map(); this.geom = 0; this.version = 0;
  }
  grow(n, ne) {
    const g = (a, need) => {
      if (need <= a.length) return a;
      const b = new a.constructor(Math.max(need, a.length * 2)); b.set(a); return b;
    };
    this.tid = g(this.tid, n); this.layer = g(this.layer, n); this.slot = g(this.slot, n);
    this.app = g(this.app, n); this.state = g(this.state, n); this.edges = g(this.edges, 2 * ne);
  }
  append(m) {
    this.grow(this.n + m.n, this.ne + m.ne);
    const base = this.n;
    this.tid.set(m.tid, base); this.layer.set(m.layer, base); this.slot.set(m.slot, base);
    this.app.set(m.app, base); this.state.set(m.state, base);
    this.edges.set(m.edges, 2 * this.ne);
    for (let k = 0; k < m.n; k++) {
      this.index.set(m.tid[k], base + k);
    }
    this.n += m.n; this.ne += m.ne;
    for (let k = 0; k < m.apps.length; k++) this.apps[m.appBase + k] = m.apps[k];
    if (m.n || m.ne) this.geom++;
    for (let k = 0; k < m.nc; k++) this.state[m.ci[k]] = m.cs[k];
    this.seq = m.seq; this.version++;
  }
  receive(raw) {
    const m = decode(raw);
    if (m.kind === 0) {
      if (m.seq < this.seq) return;
      this.reset(); this.append(m);
    } else {
      if (m.seq <= this.seq) return; // stale: a snapshot already covered it
      if (m.seq !== this.seq + 1 || m.first !== this.n) return this.askResync();
      this.append(m);
    }
    this.emit();
  }
  askResync() {
    const now = performance.now();
    if (now - this.lastAsk < 1000) return;
    this.lastAsk = now; this.resyncs++;
    this.model.send({ type: "resync", have: this.seq });
  }
  emit(kind) { for (const fn of this.listeners) fn(kind); }
}

function storeFor(model) {
  const uid = model.get("_uid");
  let s = stores.get(uid);
  if (!s) { s = new Store(model); stores.set(uid, s); }
  return s;
}

function initialize({ model }) {
  const store = storeFor(model);
  store.model = model;
  const onMsg = (msg, buffers) => {
    if (msg.type === "patch" || msg.type === "snapshot") store.receive(buffers[0]);
    else if (msg.type === "detail") { store.details.set(msg.tid, msg.info); store.emit("detail"); }
  };
  const onKey = () => { const b = model.get("_snapshot"); if (bytesOf(b)?.byteLength) store.receive(b); };
  model.on("msg:custom", onMsg);
  model.on("change:_snapshot", onKey);
  onKey();
  return () => { model.off("msg:custom", onMsg); model.off("change:_snapshot", onKey); };
}

const CSS = `
.parsl-nb-dag{font:12px var(--jp-ui-font-family,sans-serif);color:var(--jp-ui-font-color1,#222);position:relative;
 border:1px solid var(--jp-border-color2,#ddd);border-radius:4px}
.parsl-nb-dag .bar{display:flex;flex-wrap:wrap;gap:8px;align-items:center;padding:4px 6px;
 border-bottom:1px solid var(--jp-border-color2,#ddd)}
.parsl-nb-dag .legend>span{margin-right:10px;white-space:nowrap}
.parsl-nb-dag .sw{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:3px;vertical-align:-1px}
.parsl-nb-dag button{font:inherit;padding:1px 6px;cursor:pointer}
.parsl-nb-dag .stage{position:relative;overflow:hidden;cursor:grab}
.parsl-nb-dag canvas{position:absolute;left:0;top:0}
.parsl-nb-dag .tip{position:absolute;pointer-events:none;background:rgba(30,30,30,.9);color:#fff;padding:2px 6px;
 border-radius:3px;white-space:nowrap;display:none;z-index:2}
.parsl-nb-dag .detail{position:absolute;right:0;top:0;bottom:0;width:min(420px,60%);overflow:auto;z-index:3;
 background:var(--jp-layout-color1,#fff);border-left:1px solid var(--jp-border-color2,#ddd);padding:6px 8px;display:none}
.parsl-nb-dag .detail pre{white-space:pre-wrap;font-size:11px;background:var(--jp-layout-color2,#f6f6f6);padding:4px;margin:2px 0}
.parsl-nb-dag .detail th{text-align:left;padding-right:8px;vertical-align:top}
.parsl-nb-dag .sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
`;

function h(tag, attrs = {}, text = "") {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

function render({ model, el }) {
  const store = storeFor(model);
  const palette = model.get("_palette"); // [[label, color], ...] indexed by state value
  const root = h("div", { class: "parsl-nb-dag" });
  root.appendChild(h("style", {}, CSS));
  const bar = h("div", { class: "bar" });
  const title = h("b", {}, model.get("title") || "Task graph");
  const legend = h("span", { class: "legend" });
  const back = h("button", { class: "back", title: "back to the grouped view" }, "◀ groups");
  const toggle = h("button", { class: "toggle" }, "");
  const fit = h("button", { class: "fit", title: "fit the graph in view" }, "fit");
  bar.append(title, legend, back, toggle, fit);
  const stage = h("div", { class: "stage" });
  const bg = h("canvas"), fg = h("canvas");
  const tip = h("div", { class: "tip" });
  const detail = h("div", { class: "detail", role: "dialog" });
  stage.append(bg, fg, tip, detail);
  const list = h("ul", { class: "sr parsl-nb-dag-nodes", "aria-label": "tasks" });
  const glist = h("ul", { class: "sr parsl-nb-dag-groups", "aria-label": "task groups" });
  root.append(bar, stage, list, glist);
  el.appendChild(root);

  const ui = store.ui;
  let W = 0, H = 0, dpr = window.devicePixelRatio || 1, frame = 0, drawnGeom = -1, drawnCam = "", firstPaint = -1;
  let groups = null, groupsVersion = -1;

  const mode = () => {
    if (ui.expanded !== null) return "nodes";
    const v = model.get("view");
    if (v === "nodes" || v === "groups") return v;
    return store.n > model.get("threshold") ? "groups" : "nodes";
  };

  function computeGroups() {
    if (groupsVersion === store.version && groups) return groups;
    const napps = store.apps.length;
    const first = new Int32Array(napps).fill(1 << 30), counts = [];
    for (let a = 0; a < napps; a++) counts.push([0, 0, 0, 0]);
    for (let i = 0; i < store.n; i++) {
      const a = store.app[i];
      if (store.layer[i] < first[a]) first[a] = store.layer[i];
      counts[a][BUCKET[store.state[i]]]++;
    }
    const rows = new Map(), out = [];
    for (let a = 0; a < napps; a++) {
      const r = rows.get(first[a]) || 0; rows.set(first[a], r + 1);
      out.push({ a, name: store.apps[a], x: r * GW, y: 0, counts: counts[a] });
    }
    const order = Array.from(rows.keys()).sort((p, q) => p - q);
    for (const g of out) g.y = order.indexOf(first[g.a]) * GH * 1.6;
    const links = new Set();
    for (let k = 0; k < store.ne; k++) {
      const s = store.app[store.edges[2 * k]], d = store.app[store.edges[2 * k + 1]];
      if (s !== d) links.add(s * 65536 + d);
    }
    groups = { list: out, links: Array.from(links, (v) => [v >> 16, v & 65535]) };
    groupsVersion = store.version;
    return groups;
  }

  const visible = (i) => ui.expanded === null || store.app[i] === ui.expanded;
  // World positions: Python's (layer, slot), with layers wider than WRAP slots wrapped onto extra rows
  // and, in an expanded group, the group's tasks packed to the left of their layer.
  let pos = null, posKey = "";
  function positions() {
    const key = `${store.geom},${ui.expanded}`;
    if (pos && posKey === key) return pos;
    const n = store.n, col = new Int32Array(n), px = new Float32Array(n), py = new Float32Array(n), grid = new Map();
    let nl = 0;
    for (let i = 0; i < n; i++) nl = Math.max(nl, store.layer[i] + 1);
    const width = new Int32Array(nl);
    if (ui.expanded === null) {
      for (let i = 0; i < n; i++) { col[i] = store.slot[i]; width[store.layer[i]] = Math.max(width[store.layer[i]], col[i] + 1); }
    } else {
      const mine = [];
      for (let i = 0; i < n; i++) if (store.app[i] === ui.expanded) mine.push(i);
      mine.sort((p, q) => store.layer[p] - store.layer[q] || store.slot[p] - store.slot[q]);
      for (const i of mine) col[i] = width[store.layer[i]]++;
    }
    const rowStart = new Int32Array(nl + 1);
    for (let l = 0; l < nl; l++) rowStart[l + 1] = rowStart[l] + Math.max(1, Math.ceil(width[l] / WRAP));
    for (let i = 0; i < n; i++) {
      const c = col[i] % WRAP, row = rowStart[store.layer[i]] + Math.floor(col[i] / WRAP);
      px[i] = c * DX; py[i] = row * DY;
      if (visible(i)) grid.set(row * 1048576 + c, i);
    }
    pos = { px, py, grid }; posKey = key;
    return pos;
  }
  let P = null; // positions() of the current frame or event
  const wx = (i) => P.px[i], wy = (i) => P.py[i];

  function bounds() {
    P = positions();
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    if (mode() === "groups") {
      for (const g of computeGroups().list) {
        x0 = Math.min(x0, g.x); y0 = Math.min(y0, g.y); x1 = Math.max(x1, g.x + GW - 20); y1 = Math.max(y1, g.y + GH);
      }
    } else {
      for (let i = 0; i < store.n; i++) {
        if (!visible(i)) continue;
        const x = wx(i), y = wy(i);
        if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y;
      }
      x0 -= R; y0 -= R; x1 += R; y1 += R;
    }
    return x0 === Infinity ? [0, 0, 100, 100] : [x0, y0, x1, y1];
  }

  function fitCam() {
    const [x0, y0, x1, y1] = bounds();
    const k = Math.min(2, (W - 20) / Math.max(1, x1 - x0), (H - 20) / Math.max(1, y1 - y0));
    ui.cam = { k, x: (W - (x1 - x0) * k) / 2 - x0 * k, y: 10 - y0 * k };
  }

  function resize() {
    W = stage.clientWidth || 600; H = model.get("height");
    stage.style.height = H + "px";
    dpr = window.devicePixelRatio || 1;
    for (const c of [bg, fg]) {
      c.width = W * dpr; c.height = H * dpr; c.style.width = W + "px"; c.style.height = H + "px";
    }
    drawnGeom = -1; schedule();
  }

  function drawEdges(ctx, cam, m) {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.strokeStyle = "rgba(120,120,120,0.45)"; ctx.lineWidth = 1;
    ctx.beginPath();
    if (m === "groups") {
      const gl = computeGroups();
      for (const [s, d] of gl.links) {
        const a = gl.list[s], b = gl.list[d];
        ctx.moveTo(cam.x + (a.x + GW / 2 - 10) * cam.k, cam.y + (a.y + GH) * cam.k);
        ctx.lineTo(cam.x + (b.x + GW / 2 - 10) * cam.k, cam.y + b.y * cam.k);
      }
    } else {
      const r = R * cam.k;
      for (let k = 0; k < store.ne; k++) {
        const a = store.edges[2 * k], b = store.edges[2 * k + 1];
        if (!visible(a) || !visible(b)) continue;
        ctx.moveTo(cam.x + wx(a) * cam.k, cam.y + wy(a) * cam.k + r);
        ctx.lineTo(cam.x + wx(b) * cam.k, cam.y + wy(b) * cam.k - r);
      }
    }
    ctx.stroke();
  }

  function drawNodes(ctx, cam) {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const r = Math.max(1.5, R * cam.k), byState = palette.map(() => []);
    for (let i = 0; i < store.n; i++) {
      if (!visible(i)) continue;
      const x = cam.x + wx(i) * cam.k, y = cam.y + wy(i) * cam.k;
      if (x < -r || y < -r || x > W + r || y > H + r) continue;
      byState[store.state[i]].push(x, y);
    }
    for (let s = 0; s < byState.length; s++) {
      const pts = byState[s];
      if (!pts.length) continue;
      ctx.fillStyle = palette[s][1];
      ctx.beginPath();
      for (let k = 0; k < pts.length; k += 2) {
        if (r < 3) ctx.rect(pts[k] - r, pts[k + 1] - r, 2 * r, 2 * r);
        else { ctx.moveTo(pts[k] + r, pts[k + 1]); ctx.arc(pts[k], pts[k + 1], r, 0, 2 * Math.PI); }
      }
      ctx.fill();
    }
    if (ui.selected !== null && store.index.has(ui.selected)) {
      const i = store.index.get(ui.selected);
      ctx.strokeStyle = "#000"; ctx.lineWidth = 2; ctx.beginPath();
      ctx.arc(cam.x + wx(i) * cam.k, cam.y + wy(i) * cam.k, r + 3, 0, 2 * Math.PI); ctx.stroke();
    }
    if (r >= 9) { // labels when zoomed in
      ctx.fillStyle = "#fff"; ctx.font = `${Math.min(11, r)}px sans-serif`; ctx.textAlign = "center"; ctx.textBaseline = "middle";
      for (let i = 0; i < store.n; i++) if (visible(i)) ctx.fillText(String(store.tid[i]), cam.x + wx(i) * cam.k, cam.y + wy(i) * cam.k);
    }
  }

  function drawGroups(ctx, cam) {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    for (const g of computeGroups().list) {
      const x = cam.x + g.x * cam.k, y = cam.y + g.y * cam.k, w = (GW - 20) * cam.k, hh = GH * cam.k;
      const total = g.counts.reduce((p, q) => p + q, 0) || 1;
      ctx.fillStyle = "rgba(240,240,240,0.95)"; ctx.strokeStyle = "#888"; ctx.lineWidth = 1;
      ctx.fillRect(x, y, w, hh); ctx.strokeRect(x, y, w, hh);
      let bx = x + 4 * cam.k;
      const bw = w - 8 * cam.k;
      for (let b = 0; b < 4; b++) {
        const ww = (bw * g.counts[b]) / total;
        ctx.fillStyle = BUCKET_COLORS[b]; ctx.fillRect(bx, y + hh * 0.55, ww, hh * 0.3); bx += ww;
      }
      ctx.fillStyle = "#222"; ctx.font = `${Math.max(8, 13 * cam.k)}px sans-serif`; ctx.textAlign = "left"; ctx.textBaseline = "top";
      ctx.fillText(`${g.name} (${total})`, x + 4 * cam.k, y + 4 * cam.k, w - 8 * cam.k);
    }
  }

  function updateDom(m, cam) {
    const counts = [0, 0, 0, 0], states = new Array(palette.length).fill(0);
    for (let i = 0; i < store.n; i++) { counts[BUCKET[store.state[i]]]++; states[store.state[i]]++; }
    root.dataset.seq = store.seq; root.dataset.nodes = store.n; root.dataset.edges = store.ne;
    root.dataset.mode = m; root.dataset.resyncs = store.resyncs;
    root.dataset.group = ui.expanded === null ? "" : store.apps[ui.expanded];
    BUCKET_NAMES.forEach((b, k) => { root.dataset[b] = counts[k]; });
    const items = [];
    palette.forEach(([label, color], s) => {
      if (!states[s]) return;
      const sp = h("span", { "data-state": label, "data-count": states[s] });
      sp.append(h("span", { class: "sw", style: `background:${color}` }), `${label} ${states[s]}`);
      items.push(sp);
    });
    legend.replaceChildren(...items);
    back.style.display = ui.expanded !== null ? "" : "none";
    toggle.textContent = m === "groups" ? "show tasks" : "group by app";
    toggle.style.display = ui.expanded === null ? "" : "none";
    if (m === "nodes" && store.n <= LIST_LIMIT) {
      while (list.children.length < store.n) list.appendChild(h("li"));
      for (let i = 0; i < store.n; i++) {
        const li = list.children[i], label = palette[store.state[i]][0];
        li.dataset.tid = store.tid[i]; li.dataset.app = store.apps[store.app[i]]; li.dataset.state = label;
        li.dataset.visible = visible(i) ? "1" : "0";
        li.dataset.x = (cam.x + wx(i) * cam.k).toFixed(1); li.dataset.y = (cam.y + wy(i) * cam.k).toFixed(1);
        li.textContent = `task ${store.tid[i]} ${li.dataset.app}: ${label}`;
      }
    } else list.replaceChildren();
    if (m === "groups") {
      const gl = computeGroups().list;
      glist.replaceChildren(...gl.map((g) => {
        const li = h("li", {}, `${g.name}: ` + BUCKET_NAMES.map((b, k) => `${g.counts[k]} ${b}`).join(", "));
        li.dataset.app = g.name; li.dataset.total = g.counts.reduce((p, q) => p + q, 0);
        BUCKET_NAMES.forEach((b, k) => { li.dataset[b] = g.counts[k]; });
        li.dataset.x = (cam.x + (g.x + (GW - 20) / 2) * cam.k).toFixed(1); li.dataset.y = (cam.y + (g.y + GH / 2) * cam.k).toFixed(1);
        return li;
      }));
    } else glist.replaceChildren();
  }

  function draw() {
    frame = 0;
    const t0 = performance.now(), m = mode();
    P = positions();
    if (!ui.cam || !ui.userCam) fitCam();
    const cam = ui.cam, camKey = `${cam.x},${cam.y},${cam.k},${m},${ui.expanded}`;
    if (drawnGeom !== store.geom || drawnCam !== camKey) {
      drawEdges(bg.getContext("2d"), cam, m); drawnGeom = store.geom; drawnCam = camKey;
    }
    if (m === "groups") drawGroups(fg.getContext("2d"), cam); else drawNodes(fg.getContext("2d"), cam);
    updateDom(m, cam);
    const ms = performance.now() - t0;
    if (firstPaint < 0 && store.n) { firstPaint = ms; root.dataset.firstPaintMs = ms.toFixed(2); }
    root.dataset.frameMs = ms.toFixed(2);
    root.dataset.frameMaxMs = Math.max(ms, Number(root.dataset.frameMaxMs || 0)).toFixed(2);
  }
  function schedule() { if (!frame) frame = requestAnimationFrame(draw); }

  // ---------------------------------------------------------------- interaction
  function hit(px, py) {
    const cam = ui.cam;
    if (!cam) return null;
    const x = (px - cam.x) / cam.k, y = (py - cam.y) / cam.k;
    if (mode() === "groups") {
      for (const g of computeGroups().list) if (x >= g.x && x <= g.x + GW - 20 && y >= g.y && y <= g.y + GH) return { group: g };
      return null;
    }
    P = positions();
    const i = P.grid.get(Math.round(y / DY) * 1048576 + Math.round(x / DX));
    if (i === undefined || !visible(i)) return null;
    const slack = Math.max(R, 4 / cam.k);
    return Math.hypot(x - wx(i), y - wy(i)) <= slack ? { node: i } : null;
  }

  function showDetail(tid) {
    ui.selected = tid;
    const info = store.details.get(tid);
    detail.style.display = "block";
    detail.dataset.tid = tid;
    detail.replaceChildren();
    const close = h("button", { class: "close", style: "float:right" }, "×");
    close.onclick = () => { ui.selected = null; detail.style.display = "none"; detail.dataset.tid = ""; schedule(); };
    detail.append(close);
    if (!info) { detail.dataset.state = "loading"; detail.append(h("i", {}, `loading task ${tid}…`)); return; }
    detail.dataset.state = info.state;
    const head = h("div"); head.append(h("b", {}, `task ${info.tid} `), h("code", {}, info.app), " ");
    const color = palette.find((p) => p[0] === info.state)?.[1] || "#999";
    head.append(h("span", { class: "badge", style: `background:${color};color:#fff;padding:0 5px;border-radius:3px` }, info.state));
    const t = h("table");
    const row = (k, v) => { if (v === "" || v === undefined) return; const tr = h("tr"); tr.append(h("th", {}, k), h("td", {}, String(v))); t.append(tr); };
    row("executor", info.executor); row("engine", info.engine); row("block", info.block); row("tries", info.tries);
    row("depends on", info.depends.join(", ")); row("arguments", info.args);
    const hist = h("ol", { class: "history" });
    for (const e of info.history) hist.append(h("li", { "data-state": e.state }, `${e.state} +${e.offset.toFixed(3)} s (${new Date(e.time * 1000).toLocaleTimeString()})`));
    detail.append(head, t, h("div", {}, "state history"), hist);
    if (info.result !== undefined) { detail.append(h("div", {}, "result")); detail.append(h("pre", { class: "result" }, info.result)); }
    if (info.exception !== undefined) { detail.append(h("div", {}, "exception")); detail.append(h("pre", { class: "exception" }, info.exception)); }
    if (info.traceback) detail.append(h("pre", { class: "traceback" }, info.traceback));
  }

  let drag = null;
  fg.addEventListener("mousedown", (e) => { drag = { x: e.offsetX, y: e.offsetY, moved: false }; });
  fg.addEventListener("mousemove", (e) => {
    if (drag) {
      const dx = e.offsetX - drag.x, dy = e.offsetY - drag.y;
      if (drag.moved || Math.abs(dx) + Math.abs(dy) > 4) {
        drag.moved = true; ui.userCam = true; ui.cam.x += dx; ui.cam.y += dy; drag.x = e.offsetX; drag.y = e.offsetY; schedule();
      }
      return;
    }
    const t = hit(e.offsetX, e.offsetY);
    if (!t) { tip.style.display = "none"; return; }
    tip.textContent = t.group
      ? `${t.group.name}: ` + BUCKET_NAMES.map((b, k) => `${t.group.counts[k]} ${b}`).join(", ") + " (click to expand)"
      : `task ${store.tid[t.node]} · ${store.apps[store.app[t.node]]} · ${palette[store.state[t.node]][0]}`;
    tip.style.display = "block"; tip.style.left = e.offsetX + 12 + "px"; tip.style.top = e.offsetY + 12 + "px";
  });
  fg.addEventListener("mouseleave", () => { tip.style.display = "none"; drag = null; });
  fg.addEventListener("mouseup", (e) => {
    const wasDrag = drag && drag.moved; drag = null;
    if (wasDrag) return;
    const t = hit(e.offsetX, e.offsetY);
    if (t && t.group) { ui.expanded = t.group.a; ui.userCam = false; tip.style.display = "none"; schedule(); }
    else if (t) {
      const tid = store.tid[t.node];
      store.details.delete(tid); showDetail(tid); model.send({ type: "detail", tid }); schedule();
    }
  });
  fg.addEventListener("wheel", (e) => {
    e.preventDefault();
    const f = Math.exp(-e.deltaY * 0.0015), cam = ui.cam;
    cam.x = e.offsetX - (e.offsetX - cam.x) * f; cam.y = e.offsetY - (e.offsetY - cam.y) * f; cam.k *= f;
    ui.userCam = true; schedule();
  }, { passive: false });
  back.onclick = () => { ui.expanded = null; ui.userCam = false; schedule(); };
  toggle.onclick = () => { model.set("view", mode() === "groups" ? "nodes" : "groups"); model.save_changes(); ui.userCam = false; schedule(); };
  fit.onclick = () => { ui.userCam = false; schedule(); };

  const listener = (kind) => { if (kind === "detail" && ui.selected !== null) showDetail(ui.selected); schedule(); };
  store.listeners.add(listener);
  const onView = () => { ui.userCam = false; schedule(); };
  model.on("change:view", onView); model.on("change:threshold", onView); model.on("change:height", resize);
  const ro = new ResizeObserver(() => { if (stage.clientWidth !== W) resize(); });
  ro.observe(stage);
  resize();
  if (ui.selected !== null) showDetail(ui.selected);
  if (store.seq < 0) store.askResync();
  return () => { store.listeners.delete(listener); ro.disconnect(); if (frame) cancelAnimationFrame(frame); };
}

export default { initialize, render };
