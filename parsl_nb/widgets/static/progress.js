// parsl_nb progress bars: one per app plus overall; counts come from the `counts` trait.
const NAMES = ["pending", "running", "done", "failed"];
const COLORS = { pending: "#f0ad4e", running: "#0275d8", done: "#2e7d32", failed: "#c62828" };

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "parsl-nb-progress";
  root.style.font = "12px var(--jp-ui-font-family, sans-serif)";
  el.appendChild(root);
  const row = (app, c) => {
    const total = NAMES.reduce((p, b) => p + (c[b] || 0), 0);
    const tr = document.createElement("div");
    tr.className = "row"; tr.dataset.app = app; tr.dataset.total = total;
    tr.style.cssText = "display:flex;align-items:center;gap:8px;margin:2px 0";
    for (const b of NAMES) tr.dataset[b] = c[b] || 0;
    const label = document.createElement("span");
    label.style.cssText = "width:12em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap";
    label.textContent = app;
    const bar = document.createElement("span");
    bar.style.cssText = "display:flex;width:260px;height:12px;background:var(--jp-layout-color3,#eee)";
    for (const b of ["done", "failed", "running"]) {
      const seg = document.createElement("span");
      seg.className = b;
      seg.style.cssText = `background:${COLORS[b]};width:${total ? (100 * (c[b] || 0)) / total : 0}%`;
      bar.appendChild(seg);
    }
    const text = document.createElement("span");
    text.textContent = `${c.done || 0} / ${total} done` + (c.failed ? `, ${c.failed} failed` : "") +
      (c.running ? `, ${c.running} running` : "") + (c.pending ? `, ${c.pending} pending` : "");
    tr.append(label, bar, text);
    return tr;
  };
  const update = () => {
    const counts = model.get("counts") || {};
    const all = { pending: 0, running: 0, done: 0, failed: 0 };
    const rows = Object.keys(counts).sort().map((app) => {
      for (const b of NAMES) all[b] += counts[app][b] || 0;
      return row(app, counts[app]);
    });
    const overall = row("all", all);
    overall.style.fontWeight = "bold";
    root.replaceChildren(...rows, overall);
  };
  model.on("change:counts", update);
  update();
  return () => model.off("change:counts", update);
}

export default { render };
