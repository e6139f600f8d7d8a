// parsl_nb future: a badge that follows one task to its result.
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "parsl-nb-future-widget";
  root.style.font = "12px var(--jp-ui-font-family, sans-serif)";
  el.appendChild(root);
  const update = () => {
    const state = model.get("state");
    root.dataset.tid = model.get("tid"); root.dataset.state = state;
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = state;
    badge.style.cssText = `background:${model.get("color")};color:#fff;border-radius:3px;padding:0 5px;font-family:monospace`;
    const head = document.createElement("span");
    head.textContent = `AppFuture task ${model.get("tid")} ${model.get("app")} `;
    const out = document.createElement("code");
    out.className = "outcome";
    out.textContent = model.get("outcome") ? ` ${model.get("outcome")}` : "";
    root.replaceChildren(head, badge, out);
  };
  model.on("change", update);
  update();
  return () => model.off("change", update);
}

export default { render };
