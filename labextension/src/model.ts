/**
 * The panel's model: what the kernel said about its parsl_nb session, and what follows
 * from it. Plain TypeScript with no JupyterLab imports, so it is unit-tested in Node.
 *
 * The kernel side is `parsl_nb/jupyter/panel_comm.py`; the message shapes here mirror it.
 */

/** The comm target `%load_ext parsl_nb` registers in the kernel. */
export const COMM_TARGET = 'parsl_nb.panel';
/** The message protocol this panel speaks (the kernel says its own in `hello`). */
export const PROTOCOL = 1;

export interface IBlock {
  id: string;
  job_id: string | null;
  state: string;
  engines: number;
}

export interface IExecutor {
  label: string;
  kind: string;
  workers?: number;
  outstanding?: number;
  blocks: IBlock[];
  scalable: boolean;
}

export interface IFailure {
  tid: number;
  app: string;
  state: string;
  exception: string;
  time: number;
}

export interface ISnapshot {
  type: 'snapshot';
  seq?: number;
  loaded: boolean;
  run_dir?: string;
  /** 'running', or 'cleaned up' once the kernel's cleanup ran. */
  status?: string;
  executors?: IExecutor[];
  counts?: Record<string, number>;
  apps?: Record<string, Record<string, number>>;
  failures?: IFailure[];
}

export interface IHello {
  type: 'hello';
  protocol: number;
  version: string;
}

export interface IReply {
  type: 'reply';
  request: number | null;
  ok: boolean;
  message: string;
}

export type KernelMessage = ISnapshot | IHello | IReply;

/**
 * Where the panel stands with the active notebook's kernel.
 *
 * - `no-notebook`: no notebook is active.
 * - `no-kernel`: the notebook has no running kernel.
 * - `connecting`: a comm was opened, the kernel has not answered yet.
 * - `not-loaded`: the kernel has no parsl_nb comm target (`%load_ext parsl_nb` not run).
 * - `restarting`: the kernel is restarting; the panel reconnects when it is back.
 * - `connected`: snapshots arrive.
 */
export type Phase = 'no-notebook' | 'no-kernel' | 'connecting' | 'not-loaded' | 'restarting' | 'connected';

/** Task states grouped the way the panel and the status bar count them. */
export const STATE_GROUPS: Record<string, readonly string[]> = {
  pending: ['unsched', 'pending', 'fail_retryable'],
  running: ['launched', 'running', 'joining'],
  done: ['exec_done', 'memo_done'],
  failed: ['failed', 'dep_fail'],
  cancelled: ['cancelled']
};

export interface ITotals {
  total: number;
  pending: number;
  running: number;
  done: number;
  failed: number;
  cancelled: number;
}

export interface IAppProgress extends ITotals {
  app: string;
  /** Finished tasks (done, failed or cancelled) as a fraction of all, 0..1. */
  fraction: number;
}

/** Sum a `state -> count` map into the panel's groups. */
export function totals(counts: Record<string, number> | undefined): ITotals {
  const out: ITotals = { total: 0, pending: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
  for (const [state, n] of Object.entries(counts ?? {})) {
    out.total += n;
    for (const [group, states] of Object.entries(STATE_GROUPS)) {
      if (states.includes(state)) {
        out[group as keyof Omit<ITotals, 'total'>] += n;
      }
    }
  }
  return out;
}

/** Per-app progress, in the order apps were first seen by the kernel. */
export function appProgress(apps: Record<string, Record<string, number>> | undefined): IAppProgress[] {
  return Object.entries(apps ?? {}).map(([app, counts]) => {
    const t = totals(counts);
    const finished = t.done + t.failed + t.cancelled;
    return { app, ...t, fraction: t.total ? finished / t.total : 0 };
  });
}

function isMessage(data: unknown): data is KernelMessage {
  if (typeof data !== 'object' || data === null) {
    return false;
  }
  const kind = (data as { type?: unknown }).type;
  return kind === 'snapshot' || kind === 'hello' || kind === 'reply';
}

type Listener = (model: PanelModel) => void;

/**
 * The state of one panel: phase, latest snapshot, last action result.
 *
 * Every change calls the listeners once; the view re-renders from the model.
 */
export class PanelModel {
  phase: Phase = 'no-notebook';
  /** Title of the notebook the panel follows. */
  notebook = '';
  snapshot: ISnapshot | null = null;
  /** The kernel's parsl_nb version, from `hello`. */
  version = '';
  /** How many times a comm to a kernel answered `hello` (1 on the first connect). */
  connections = 0;
  /** The result of the last action (scale, cancel), or a protocol warning. */
  notice: { ok: boolean; message: string } | null = null;
  private _listeners: Listener[] = [];
  private _nextRequest = 1;
  private _pending = new Map<number, string>();

  /** Call `fn` after every change; returns a function that removes it. */
  subscribe(fn: Listener): () => void {
    this._listeners.push(fn);
    return () => {
      this._listeners = this._listeners.filter(l => l !== fn);
    };
  }

  private _changed(): void {
    for (const fn of this._listeners) {
      fn(this);
    }
  }

  /** Follow another notebook (or none): forget the old session. */
  follow(notebook: string | null): void {
    this.notebook = notebook ?? '';
    this.snapshot = null;
    this.notice = null;
    this._pending.clear();
    this.phase = notebook === null ? 'no-notebook' : 'no-kernel';
    this._changed();
  }

  setPhase(phase: Phase): void {
    if (phase === this.phase) {
      return;
    }
    this.phase = phase;
    if (phase !== 'connected') {
      this.snapshot = null;
      this._pending.clear();
    }
    this._changed();
  }

  /** Apply one message from the kernel; unknown shapes are ignored (returns false). */
  receive(data: unknown): boolean {
    if (!isMessage(data)) {
      return false;
    }
    switch (data.type) {
      case 'hello':
        this.version = data.version;
        this.connections += 1;
        this.phase = 'connected';
        this.notice =
          data.protocol === PROTOCOL
            ? null
            : {
                ok: false,
                message: `the kernel's parsl_nb speaks panel protocol ${data.protocol}, this panel ${PROTOCOL}: update one of them`
              };
        break;
      case 'snapshot':
        if (this.snapshot?.seq !== undefined && data.seq !== undefined && data.seq <= this.snapshot.seq) {
          return false; // an older snapshot arriving late
        }
        this.phase = 'connected';
        this.snapshot = data;
        break;
      case 'reply': {
        const what = data.request === null ? undefined : this._pending.get(data.request);
        if (data.request !== null) {
          this._pending.delete(data.request);
        }
        this.notice = { ok: data.ok, message: what && !data.ok ? `${what}: ${data.message}` : data.message };
        break;
      }
    }
    this._changed();
    return true;
  }

  /** Show a notice (the result of an action, or why it could not be sent). */
  say(ok: boolean, message: string): void {
    this.notice = { ok, message };
    this._changed();
  }

  /** A request to send to the kernel, numbered so its reply can be matched. */
  request(type: 'scale' | 'cancel_pending', body: Record<string, unknown> = {}): Record<string, unknown> {
    const id = this._nextRequest++;
    this._pending.set(id, type === 'scale' ? 'scale' : 'cancel pending tasks');
    return { type, request: id, ...body };
  }

  /** Requests sent and not answered yet. */
  get waiting(): number {
    return this._pending.size;
  }

  get loaded(): boolean {
    return this.phase === 'connected' && this.snapshot?.loaded === true;
  }

  get totals(): ITotals {
    return totals(this.loaded ? this.snapshot?.counts : undefined);
  }

  get apps(): IAppProgress[] {
    return appProgress(this.loaded ? this.snapshot?.apps : undefined);
  }

  get executors(): IExecutor[] {
    return this.loaded ? (this.snapshot?.executors ?? []) : [];
  }

  get failures(): IFailure[] {
    return this.loaded ? (this.snapshot?.failures ?? []) : [];
  }

  /** Blocks of all executors, and engines in them. */
  get blocks(): number {
    return this.executors.reduce((n, e) => n + e.blocks.length, 0);
  }

  /** The executor that the panel's scale buttons act on: the only scalable one, if exactly one. */
  get scalable(): IExecutor | null {
    const able = this.executors.filter(e => e.scalable);
    return able.length === 1 ? (able[0] ?? null) : null;
  }

  /** A short sentence on what the user should do, for every phase but `connected`. */
  get hint(): string {
    switch (this.phase) {
      case 'no-notebook':
        return 'Open a notebook: this panel follows the active notebook\u2019s kernel.';
      case 'no-kernel':
        return 'This notebook has no running kernel. Start one to see its parsl_nb session.';
      case 'connecting':
        return 'Asking the kernel for its parsl_nb session\u2026';
      case 'not-loaded':
        return 'parsl_nb is not loaded in this kernel. Run %load_ext parsl_nb, then %parsl_load local (engines) or %parsl_load threads.';
      case 'restarting':
        return 'The kernel is restarting; the panel reconnects when it is back.';
      case 'connected':
        return this.snapshot?.loaded === false
          ? 'parsl_nb is loaded but no configuration is: run %parsl_load local (engines) or %parsl_load threads.'
          : '';
    }
  }
}
