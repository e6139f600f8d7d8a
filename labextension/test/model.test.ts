import { describe, expect, it } from 'vitest';

import { ISnapshot, PanelModel, PROTOCOL, appProgress, totals } from '../src/model';

function snapshot(seq: number, counts: Record<string, number>, extra: Partial<ISnapshot> = {}): ISnapshot {
  return {
    type: 'snapshot',
    seq,
    loaded: true,
    run_dir: '/runs/000',
    status: 'running',
    executors: [
      {
        label: 'engines',
        kind: 'engines',
        workers: 2,
        scalable: true,
        blocks: [{ id: '0', job_id: '101', state: 'running', engines: 2 }]
      }
    ],
    counts,
    apps: { step: counts },
    failures: [],
    ...extra
  };
}

function connected(): PanelModel {
  const m = new PanelModel();
  m.follow('a.ipynb');
  m.receive({ type: 'hello', protocol: PROTOCOL, version: '0.1.0' });
  return m;
}

describe('totals', () => {
  it('groups Parsl states into pending, running, done, failed, cancelled', () => {
    const t = totals({
      unsched: 1,
      pending: 2,
      fail_retryable: 1,
      launched: 3,
      running: 4,
      joining: 1,
      exec_done: 5,
      memo_done: 2,
      failed: 1,
      dep_fail: 2,
      cancelled: 3
    });
    expect(t).toEqual({ total: 25, pending: 4, running: 8, done: 7, failed: 3, cancelled: 3 });
  });

  it('is all zeros without counts', () => {
    expect(totals(undefined).total).toBe(0);
  });
});

describe('appProgress', () => {
  it('counts finished tasks as the fraction done, in the order apps came', () => {
    const apps = appProgress({ b: { exec_done: 1, running: 3 }, a: { failed: 1, cancelled: 1 } });
    expect(apps.map(a => a.app)).toEqual(['b', 'a']);
    expect(apps[0]?.fraction).toBe(0.25);
    expect(apps[1]?.fraction).toBe(1);
  });
});

describe('PanelModel', () => {
  it('starts with no notebook and asks for one', () => {
    const m = new PanelModel();
    expect(m.phase).toBe('no-notebook');
    expect(m.hint).toMatch(/Open a notebook/);
    expect(m.loaded).toBe(false);
  });

  it('says how to start when the kernel has no parsl_nb', () => {
    const m = new PanelModel();
    m.follow('a.ipynb');
    m.setPhase('not-loaded');
    expect(m.hint).toContain('%load_ext parsl_nb');
    expect(m.hint).toContain('%parsl_load local');
  });

  it('counts connections from hello messages', () => {
    const m = connected();
    expect(m.phase).toBe('connected');
    expect(m.connections).toBe(1);
    expect(m.version).toBe('0.1.0');
    m.setPhase('restarting');
    m.receive({ type: 'hello', protocol: PROTOCOL, version: '0.1.0' });
    expect(m.connections).toBe(2);
  });

  it('warns when the kernel speaks another protocol', () => {
    const m = new PanelModel();
    m.receive({ type: 'hello', protocol: PROTOCOL + 1, version: '9' });
    expect(m.notice?.ok).toBe(false);
    expect(m.notice?.message).toMatch(/protocol/);
  });

  it('says a configuration is missing when parsl_nb is loaded without one', () => {
    const m = connected();
    m.receive({ type: 'snapshot', seq: 1, loaded: false });
    expect(m.loaded).toBe(false);
    expect(m.hint).toContain('%parsl_load');
    expect(m.totals.total).toBe(0);
  });

  it('follows counts as tasks finish, and notifies listeners once per message', () => {
    const m = connected();
    const seen: number[] = [];
    m.subscribe(x => seen.push(x.totals.done));
    m.receive(snapshot(1, { running: 3, pending: 1 }));
    m.receive(snapshot(2, { running: 1, exec_done: 3 }));
    expect(seen).toEqual([0, 3]);
    expect(m.totals).toMatchObject({ running: 1, done: 3, total: 4 });
    expect(m.apps[0]).toMatchObject({ app: 'step', done: 3, total: 4 });
    expect(m.blocks).toBe(1);
    expect(m.scalable?.label).toBe('engines');
  });

  it('drops a snapshot older than the one shown', () => {
    const m = connected();
    m.receive(snapshot(5, { exec_done: 5 }));
    expect(m.receive(snapshot(4, { exec_done: 4 }))).toBe(false);
    expect(m.totals.done).toBe(5);
  });

  it('ignores messages it does not know', () => {
    const m = connected();
    expect(m.receive({ type: 'mystery' })).toBe(false);
    expect(m.receive(null)).toBe(false);
    expect(m.receive('snapshot')).toBe(false);
  });

  it('forgets the session when the kernel restarts or the notebook changes', () => {
    const m = connected();
    m.receive(
      snapshot(1, { exec_done: 2 }, { failures: [{ tid: 1, app: 'f', state: 'failed', exception: 'E', time: 0 }] })
    );
    expect(m.failures).toHaveLength(1);
    m.setPhase('restarting');
    expect(m.snapshot).toBeNull();
    expect(m.totals.total).toBe(0);
    expect(m.failures).toHaveLength(0);
    m.receive({ type: 'hello', protocol: PROTOCOL, version: '0.1.0' });
    m.receive(snapshot(1, { exec_done: 1 }));
    expect(m.totals.done).toBe(1); // sequence numbers start again in a new kernel
    m.follow('b.ipynb');
    expect(m.phase).toBe('no-kernel');
    expect(m.notebook).toBe('b.ipynb');
    expect(m.snapshot).toBeNull();
  });

  it('matches replies to requests and names a failed action', () => {
    const m = connected();
    const req = m.request('scale', { blocks: 1, executor: 'engines' });
    expect(req).toMatchObject({ type: 'scale', blocks: 1, executor: 'engines' });
    expect(m.waiting).toBe(1);
    m.receive({ type: 'reply', request: req.request as number, ok: false, message: 'at max_blocks' });
    expect(m.waiting).toBe(0);
    expect(m.notice).toEqual({ ok: false, message: 'scale: at max_blocks' });
    const cancel = m.request('cancel_pending');
    m.receive({ type: 'reply', request: cancel.request as number, ok: true, message: 'cancelled 3 task(s)' });
    expect(m.notice).toEqual({ ok: true, message: 'cancelled 3 task(s)' });
    expect(cancel.request).not.toBe(req.request);
  });

  it('offers scale buttons for exactly one scalable executor', () => {
    const m = connected();
    const s = snapshot(1, {});
    const first = s.executors?.[0];
    if (!first) {
      throw new Error('fixture has an executor');
    }
    s.executors = [first, { ...first, label: 'more' }];
    m.receive(s);
    expect(m.scalable).toBeNull();
  });
});
