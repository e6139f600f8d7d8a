/**
 * The side panel's view: renders a PanelModel into plain DOM.
 *
 * Every part the browser test reads carries data attributes (phase, counts, block states).
 * A section is rewritten only when its HTML changes, so a button is never replaced
 * between the press and the release of a click.
 */

import { Widget } from '@lumino/widgets';

import { IExecutor, PanelModel } from './model';

export interface IPanelActions {
  openDag(): void;
  scale(executor: string, blocks: number): void;
  cancelPending(): void;
  loadExtension(): void;
  refresh(): void;
}

const GROUPS = ['pending', 'running', 'done', 'failed', 'cancelled'] as const;

/** Escape text for HTML content and attribute values. */
export function esc(text: unknown): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function button(action: string, label: string, title: string, extra = ''): string {
  return `<button class="jp-Button parsl-nb-button" data-action="${action}" title="${esc(title)}" ${extra}>${esc(label)}</button>`;
}

export function countsHtml(model: PanelModel): string {
  const t = model.totals;
  const cells = GROUPS.map(
    g =>
      `<div class="parsl-nb-count" data-group="${g}"><span class="n">${t[g]}</span><span class="label">${g}</span></div>`
  ).join('');
  return `<h3>Tasks <span class="parsl-nb-total" data-total="${t.total}">${t.total}</span></h3><div class="parsl-nb-counts-row">${cells}</div>`;
}

function executorHtml(ex: IExecutor): string {
  const rows = ex.blocks
    .map(
      b =>
        `<tr class="parsl-nb-block" data-block-id="${esc(b.id)}" data-state="${esc(b.state.toLowerCase())}">` +
        `<td>${esc(b.id)}</td><td>${esc(b.job_id ?? '\u2013')}</td><td>${esc(b.state.toLowerCase())}</td><td>${b.engines}</td></tr>`
    )
    .join('');
  const table = ex.blocks.length
    ? `<table class="parsl-nb-blocks"><thead><tr><th>block</th><th>job id</th><th>state</th><th>engines</th></tr></thead><tbody>${rows}</tbody></table>`
    : '';
  const scale = ex.scalable
    ? `<span class="parsl-nb-scale">${button('scale-in', '\u2212 block', `Remove an idle block from ${ex.label}`, `data-executor="${esc(ex.label)}"`)}` +
      `${button('scale-out', '+ block', `Add a block to ${ex.label}`, `data-executor="${esc(ex.label)}"`)}</span>`
    : '';
  const workers = ex.workers === undefined ? '' : `${ex.workers} ${ex.kind === 'engines' ? 'engines' : 'workers'}`;
  return (
    `<div class="parsl-nb-executor" data-label="${esc(ex.label)}" data-kind="${esc(ex.kind)}" data-blocks="${ex.blocks.length}" data-workers="${ex.workers ?? ''}">` +
    `<div class="parsl-nb-executor-head"><b>${esc(ex.label)}</b> <span class="kind">${esc(ex.kind)}</span> <span class="workers">${workers}</span>${scale}</div>${table}</div>`
  );
}

export function executorsHtml(model: PanelModel): string {
  const executors = model.executors;
  return `<h3>Executors</h3>${executors.map(executorHtml).join('') || '<p class="parsl-nb-empty">none</p>'}`;
}

export function appsHtml(model: PanelModel): string {
  const rows = model.apps.map(a => {
    const pct = (n: number): string => (a.total ? ((100 * n) / a.total).toFixed(1) : '0');
    return (
      `<div class="parsl-nb-app" data-app="${esc(a.app)}" data-total="${a.total}" data-done="${a.done}" data-failed="${a.failed}" data-running="${a.running}">` +
      `<div class="parsl-nb-app-head"><span class="name">${esc(a.app)}</span><span class="nums">${a.done + a.failed + a.cancelled}/${a.total}</span></div>` +
      `<div class="parsl-nb-bar"><span class="done" style="width:${pct(a.done)}%"></span><span class="failed" style="width:${pct(a.failed + a.cancelled)}%"></span><span class="running" style="width:${pct(a.running)}%"></span></div></div>`
    );
  });
  return `<h3>Apps</h3>${rows.join('') || '<p class="parsl-nb-empty">no tasks yet</p>'}`;
}

export function failuresHtml(model: PanelModel): string {
  const items = model.failures.map(
    f =>
      `<li class="parsl-nb-failure" data-tid="${f.tid}" data-app="${esc(f.app)}" data-state="${esc(f.state)}">` +
      `<span class="task">task ${f.tid} \u00b7 ${esc(f.app)}${f.state === 'dep_fail' ? ' (dependency)' : ''}</span>` +
      `<pre class="exception">${esc(f.exception || f.state)}</pre></li>`
  );
  return `<h3>Recent failures</h3>${items.length ? `<ul>${items.join('')}</ul>` : '<p class="parsl-nb-empty">none</p>'}`;
}

export class ParslPanel extends Widget {
  private readonly _sections = new Map<string, { el: HTMLElement; html: string }>();
  private readonly _hint: HTMLElement;
  private readonly _notice: HTMLElement;
  private readonly _where: HTMLElement;
  private readonly _unsubscribe: () => void;

  constructor(
    readonly model: PanelModel,
    private readonly _actions: IPanelActions
  ) {
    super();
    this.addClass('parsl-nb-panel');
    const node = this.node;
    node.innerHTML =
      '<header><h2>Parsl session</h2><div class="parsl-nb-where"></div></header>' +
      `<div class="parsl-nb-hint"></div>` +
      `<div class="parsl-nb-load">${button('load', 'Load parsl_nb in this kernel', 'Run %load_ext parsl_nb in the kernel')}</div>` +
      `<div class="parsl-nb-actions">${button('dag', 'Task graph', 'Open the task graph of this kernel in a tab')}` +
      button('cancel', 'Cancel pending', 'Cancel every task that has not started running') +
      `${button('refresh', 'Refresh', 'Ask the kernel for a fresh snapshot')}</div>` +
      '<div class="parsl-nb-notice"></div>';
    this._where = node.querySelector('.parsl-nb-where') as HTMLElement;
    this._hint = node.querySelector('.parsl-nb-hint') as HTMLElement;
    this._notice = node.querySelector('.parsl-nb-notice') as HTMLElement;
    for (const name of ['counts', 'executors', 'apps', 'failures']) {
      const el = document.createElement('section');
      el.className = `parsl-nb-${name}`;
      node.appendChild(el);
      this._sections.set(name, { el, html: '' });
    }
    node.addEventListener('click', this._onClick);
    this._unsubscribe = model.subscribe(() => {
      this.render();
    });
    this.render();
  }

  private readonly _onClick = (event: MouseEvent): void => {
    const target = (event.target as HTMLElement | null)?.closest('button[data-action]');
    if (!target) {
      return;
    }
    const executor = target.getAttribute('data-executor') ?? '';
    switch (target.getAttribute('data-action')) {
      case 'dag':
        this._actions.openDag();
        break;
      case 'cancel':
        this._actions.cancelPending();
        break;
      case 'refresh':
        this._actions.refresh();
        break;
      case 'load':
        this._actions.loadExtension();
        break;
      case 'scale-out':
        this._actions.scale(executor, 1);
        break;
      case 'scale-in':
        this._actions.scale(executor, -1);
        break;
    }
  };

  private _section(name: string, html: string): void {
    const s = this._sections.get(name);
    if (s && s.html !== html) {
      s.el.innerHTML = html;
      s.html = html;
    }
  }

  render(): void {
    const m = this.model;
    const t = m.totals;
    const d = this.node.dataset;
    d.phase = m.phase;
    d.loaded = String(m.loaded);
    d.connections = String(m.connections);
    d.runDir = m.loaded ? (m.snapshot?.run_dir ?? '') : '';
    d.seq = String(m.snapshot?.seq ?? '');
    d.blocks = String(m.blocks);
    for (const g of GROUPS) {
      d[g] = String(t[g]);
    }
    d.total = String(t.total);
    this._where.textContent = m.notebook ? `${m.notebook}${m.version ? ` \u00b7 parsl_nb ${m.version}` : ''}` : '';
    this._hint.textContent = m.hint;
    this._hint.hidden = !m.hint;
    (this.node.querySelector('.parsl-nb-load') as HTMLElement).hidden = m.phase !== 'not-loaded';
    (this.node.querySelector('.parsl-nb-actions') as HTMLElement).hidden = !m.loaded;
    this._notice.textContent = m.notice?.message ?? '';
    this._notice.dataset.ok = m.notice ? String(m.notice.ok) : '';
    this._notice.hidden = !m.notice;
    const show = m.loaded;
    this._section('counts', show ? countsHtml(m) : '');
    this._section('executors', show ? executorsHtml(m) : '');
    this._section('apps', show ? appsHtml(m) : '');
    this._section('failures', show ? failuresHtml(m) : '');
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._unsubscribe();
    this.node.removeEventListener('click', this._onClick);
    super.dispose();
  }
}

/** The status-bar item: running / done / failed counts of the followed kernel. */
export class ParslStatus extends Widget {
  private readonly _unsubscribe: () => void;

  constructor(
    readonly model: PanelModel,
    onClick: () => void
  ) {
    super();
    this.addClass('parsl-nb-status');
    this.node.title = 'Parsl tasks of the active notebook: running, done, failed (click for the session panel)';
    this.node.addEventListener('click', onClick);
    this._unsubscribe = model.subscribe(() => {
      this.render();
    });
    this.render();
  }

  render(): void {
    const t = this.model.totals;
    const d = this.node.dataset;
    d.loaded = String(this.model.loaded);
    d.running = String(t.running);
    d.done = String(t.done);
    d.failed = String(t.failed);
    this.node.textContent = this.model.loaded
      ? `Parsl \u25b6 ${t.running} \u2713 ${t.done} \u2717 ${t.failed}`
      : this.model.phase === 'connected'
        ? 'Parsl: no config'
        : 'Parsl: \u2013';
  }

  dispose(): void {
    if (!this.isDisposed) {
      this._unsubscribe();
    }
    super.dispose();
  }
}
