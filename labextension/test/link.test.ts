import { describe, expect, it } from 'vitest';

import { ICommLike, ICommMsgLike, IKernelLike, LOAD_CODE, SessionLink } from '../src/link';
import { COMM_TARGET, PROTOCOL, PanelModel } from '../src/model';

class FakeComm implements ICommLike {
  isDisposed = false;
  sent: Record<string, unknown>[] = [];
  opened: Record<string, unknown> | undefined;
  closed = false;
  onMsg: (msg: ICommMsgLike) => void = () => undefined;
  onClose: (msg: ICommMsgLike) => void = () => undefined;
  private _resolve: () => void = () => undefined;
  private _reject: (e: Error) => void = () => undefined;
  constructor(readonly commId: string) {}
  open(data?: Record<string, unknown>): { done: Promise<unknown> } {
    this.opened = data;
    return {
      done: new Promise<void>((resolve, reject) => {
        this._resolve = resolve;
        this._reject = reject;
      })
    };
  }
  send(data: Record<string, unknown>): void {
    this.sent.push(data);
  }
  close(): void {
    this.closed = true;
    this.isDisposed = true;
  }
  /** The kernel says something on this comm. */
  deliver(data: unknown): void {
    this.onMsg({ content: { data } });
  }
  /** The kernel closes it (no such target). */
  kernelCloses(): void {
    this.isDisposed = true;
    this.onClose({ content: {} });
    this._resolve();
  }
  fail(): void {
    this._reject(new Error('kernel gone'));
  }
}

class FakeKernel implements IKernelLike {
  comms: FakeComm[] = [];
  executed: string[] = [];
  targets = new Map<string, (comm: ICommLike, msg: unknown) => void>();
  /** When true, executing LOAD_CODE opens a comm from the kernel, as parsl_nb does. */
  announces = true;
  constructor(readonly id = 'k1') {}
  createComm(target: string): ICommLike {
    expect(target).toBe(COMM_TARGET);
    const c = new FakeComm(`c${this.comms.length}`);
    this.comms.push(c);
    return c;
  }
  registerCommTarget(name: string, cb: (comm: ICommLike, msg: unknown) => void): void {
    this.targets.set(name, cb);
  }
  removeCommTarget(name: string): void {
    this.targets.delete(name);
  }
  requestExecute(content: { code: string; silent: boolean; store_history: boolean }): { done: Promise<unknown> } {
    this.executed.push(content.code);
    if (content.code === LOAD_CODE && this.announces) {
      this.kernelOpens();
    }
    return { done: Promise.resolve({}) };
  }
  /** The kernel opens a comm to the panel's target (what `%load_ext parsl_nb` does). */
  kernelOpens(): FakeComm {
    const c = new FakeComm(`k${this.comms.length}`);
    this.comms.push(c);
    const cb = this.targets.get(COMM_TARGET);
    if (!cb) {
      throw new Error('the panel registered no comm target');
    }
    cb(c, {});
    c.deliver({ type: 'hello', protocol: PROTOCOL, version: '0.1.0' });
    return c;
  }
  get last(): FakeComm {
    const c = this.comms[this.comms.length - 1];
    if (!c) {
      throw new Error('no comm');
    }
    return c;
  }
}

const hello = { type: 'hello', protocol: PROTOCOL, version: '0.1.0' };
const tick = (): Promise<void> => new Promise(r => setTimeout(r, 0));

function setup(status = 'idle'): { model: PanelModel; kernel: FakeKernel; link: SessionLink } {
  const model = new PanelModel();
  model.follow('a.ipynb');
  const kernel = new FakeKernel();
  const link = new SessionLink(model);
  link.setKernel(kernel, status);
  return { model, kernel, link };
}

describe('SessionLink', () => {
  it('probes an idle kernel once and connects when parsl_nb answers', () => {
    const { model, kernel } = setup();
    expect(kernel.comms).toHaveLength(1);
    expect(kernel.last.opened).toEqual({ protocol: PROTOCOL });
    expect(model.phase).toBe('connecting');
    kernel.last.deliver(hello);
    kernel.last.deliver({ type: 'snapshot', seq: 1, loaded: true, counts: { running: 2 } });
    expect(model.phase).toBe('connected');
    expect(model.totals.running).toBe(2);
  });

  it('waits for a starting kernel to be ready before probing', () => {
    const { kernel, link } = setup('starting');
    expect(kernel.comms).toHaveLength(0);
    link.setStatus('idle');
    link.setStatus('busy');
    link.setStatus('idle');
    expect(kernel.comms).toHaveLength(1);
  });

  it('says parsl_nb is not loaded when the kernel closes the comm, without polling', () => {
    const { model, kernel, link } = setup();
    kernel.last.kernelCloses();
    expect(model.phase).toBe('not-loaded');
    link.setStatus('busy');
    link.setStatus('idle');
    expect(kernel.comms).toHaveLength(1); // no new probe on every idle
  });

  it('connects at once when %load_ext opens a comm from the kernel, and wakes it up', () => {
    const { model, kernel } = setup();
    kernel.last.kernelCloses();
    const c = kernel.kernelOpens();
    expect(model.phase).toBe('connected');
    expect(c.sent).toEqual([{ type: 'refresh' }]);
  });

  it('sends requests on the open comm, and refuses when not connected', () => {
    const { kernel, link } = setup();
    kernel.last.kernelCloses();
    expect(link.send({ type: 'refresh' })).toBe(false);
    const c = kernel.kernelOpens();
    expect(link.send({ type: 'scale', blocks: 1 })).toBe(true);
    expect(c.sent).toContainEqual({ type: 'scale', blocks: 1 });
  });

  it('a comm the kernel opens later replaces the old one (extension reloaded)', () => {
    const { model, kernel } = setup();
    const first = kernel.last;
    first.deliver(hello);
    const second = kernel.kernelOpens();
    expect(first.closed).toBe(true);
    first.deliver({ type: 'snapshot', seq: 9, loaded: true, counts: { failed: 1 } });
    expect(model.totals.failed).toBe(0); // messages on the replaced comm are ignored
    second.deliver({ type: 'snapshot', seq: 1, loaded: true, counts: { exec_done: 1 } });
    expect(model.totals.done).toBe(1);
  });

  it('reconnects after a restart by loading parsl_nb again, silently', async () => {
    const { model, kernel, link } = setup();
    kernel.last.deliver(hello);
    kernel.last.deliver({ type: 'snapshot', seq: 3, loaded: true, counts: { exec_done: 3 } });
    link.setStatus('restarting');
    expect(model.phase).toBe('restarting');
    expect(model.totals.total).toBe(0);
    link.setStatus('starting');
    link.setStatus('idle');
    await tick();
    expect(kernel.executed).toEqual([LOAD_CODE]);
    expect(model.phase).toBe('connected');
    expect(model.connections).toBe(2);
    link.setStatus('idle');
    expect(kernel.executed).toHaveLength(1);
  });

  it('after a restart of a kernel that never had parsl_nb, only probes', () => {
    const { model, kernel, link } = setup();
    kernel.last.kernelCloses();
    link.setStatus('autorestarting');
    link.setStatus('idle');
    expect(kernel.executed).toEqual([]);
    expect(kernel.comms).toHaveLength(2);
    kernel.last.kernelCloses();
    expect(model.phase).toBe('not-loaded');
  });

  it('falls back to a probe when the reloaded parsl_nb does not announce itself', async () => {
    const { model, kernel, link } = setup();
    kernel.last.deliver(hello);
    kernel.announces = false;
    link.setStatus('restarting');
    link.setStatus('idle');
    await tick();
    expect(kernel.comms).toHaveLength(2);
    kernel.last.deliver(hello);
    expect(model.phase).toBe('connected');
  });

  it('treats a failed open as not loaded and a dead kernel as none', async () => {
    const { model, kernel, link } = setup();
    kernel.last.fail();
    await tick();
    expect(model.phase).toBe('not-loaded');
    link.setStatus('dead');
    expect(model.phase).toBe('no-kernel');
  });

  it('switches kernels: closes the old comm and target, probes the new kernel', () => {
    const { model, kernel, link } = setup();
    kernel.last.deliver(hello);
    const other = new FakeKernel('k2');
    link.setKernel(other, 'idle');
    expect(kernel.last.closed).toBe(true);
    expect(kernel.targets.size).toBe(0);
    expect(other.targets.has(COMM_TARGET)).toBe(true);
    expect(other.comms).toHaveLength(1);
    expect(model.phase).toBe('connecting');
    link.setKernel(null);
    expect(model.phase).toBe('no-kernel');
    link.dispose();
    link.setStatus('idle');
    expect(other.comms).toHaveLength(1);
  });
});
