/**
 * The link between the panel model and one kernel: a comm to the `parsl_nb.panel` target.
 *
 * Both sides can open it. The panel asks once when it binds to a kernel (parsl_nb may have
 * been loaded before the page was opened); the kernel opens one itself when
 * `%load_ext parsl_nb` runs, to a comm target the panel registers on every kernel it
 * follows. So the panel connects the moment the extension is loaded, without polling.
 *
 * After a kernel restart the new kernel has forgotten parsl_nb. If the panel was connected
 * before, it loads the extension again (a silent `%load_ext parsl_nb`), which opens the
 * comm: the panel reconnects and shows that no configuration is loaded yet.
 *
 * Only the small kernel surface below is used, so the tests drive it with fakes.
 */

import { COMM_TARGET, PROTOCOL, PanelModel } from './model';

export interface ICommMsgLike {
  content: { data?: unknown };
}

export interface ICommLike {
  readonly commId: string;
  readonly isDisposed: boolean;
  onMsg: (msg: ICommMsgLike) => void | PromiseLike<void>;
  onClose: (msg: ICommMsgLike) => void | PromiseLike<void>;
  open(data?: Record<string, unknown>): { done: Promise<unknown> };
  send(data: Record<string, unknown>): unknown;
  close(): unknown;
}

export interface IKernelLike {
  readonly id: string;
  createComm(targetName: string): ICommLike;
  registerCommTarget(targetName: string, callback: (comm: ICommLike, msg: unknown) => void): void;
  removeCommTarget(targetName: string, callback: (comm: ICommLike, msg: unknown) => void): void;
  requestExecute(content: { code: string; silent: boolean; store_history: boolean }): { done: Promise<unknown> };
}

/** The code the panel runs (silently) to load parsl_nb again after a kernel restart. */
export const LOAD_CODE = '%load_ext parsl_nb';

/** Kernel statuses after which a kernel answers requests. */
const READY = new Set(['idle', 'busy']);

export class SessionLink {
  private _kernel: IKernelLike | null = null;
  private _comm: ICommLike | null = null;
  private _probed = false;
  private _wasConnected = false;
  private _restarting = false;
  private _disposed = false;
  private readonly _adopt = (comm: ICommLike): void => {
    this._attach(comm, false);
  };

  /**
   * @param model - the model the kernel's messages go to.
   * @param reloadAfterRestart - load parsl_nb again after a restart if it was loaded before.
   */
  constructor(
    readonly model: PanelModel,
    readonly reloadAfterRestart = true
  ) {}

  get kernel(): IKernelLike | null {
    return this._kernel;
  }

  get connected(): boolean {
    return this._comm !== null && this.model.phase === 'connected';
  }

  /** Follow another kernel connection (or none). `status` is its current status. */
  setKernel(kernel: IKernelLike | null, status = 'unknown'): void {
    if (kernel === this._kernel) {
      return;
    }
    this._drop();
    this._kernel?.removeCommTarget(COMM_TARGET, this._adopt);
    this._kernel = kernel;
    this._probed = false;
    this._wasConnected = false;
    this._restarting = false;
    if (kernel === null) {
      this.model.setPhase('no-kernel');
      return;
    }
    kernel.registerCommTarget(COMM_TARGET, this._adopt);
    this.model.setPhase('connecting');
    this.setStatus(status);
  }

  /** The kernel's status changed ('idle', 'busy', 'restarting', 'autorestarting', 'dead', ...). */
  setStatus(status: string): void {
    if (this._kernel === null || this._disposed) {
      return;
    }
    if (status === 'restarting' || status === 'autorestarting') {
      this._restarting = true;
      this._drop(false); // the restart disposes the comm; a close would reach the new kernel
      this.model.setPhase('restarting');
    } else if (status === 'dead') {
      this._drop();
      this.model.setPhase('no-kernel');
    } else if (READY.has(status)) {
      if (this._restarting) {
        this._restarting = false;
        this._probed = false;
        this._afterRestart();
      } else if (!this._probed) {
        this._probe();
      }
    }
  }

  /** Send a message to the kernel side; false if not connected. */
  send(data: Record<string, unknown>): boolean {
    if (this._comm === null || this._comm.isDisposed) {
      return false;
    }
    this._comm.send(data);
    return true;
  }

  /** Ask the kernel once whether parsl_nb is loaded (it closes the comm if not). */
  private _probe(): void {
    const kernel = this._kernel;
    if (kernel === null || this._comm !== null) {
      return;
    }
    this._probed = true;
    this.model.setPhase('connecting');
    const comm = kernel.createComm(COMM_TARGET);
    this._attach(comm, true);
    comm.open({ protocol: PROTOCOL }).done.catch(() => {
      this._closed(comm);
    });
  }

  private _afterRestart(): void {
    const kernel = this._kernel;
    if (kernel === null) {
      return;
    }
    if (!(this.reloadAfterRestart && this._wasConnected)) {
      this.model.setPhase('not-loaded');
      this._probe();
      return;
    }
    this.model.setPhase('connecting');
    // loading the extension opens the comm from the kernel side (see _adopt)
    kernel.requestExecute({ code: LOAD_CODE, silent: true, store_history: false }).done.then(
      () => {
        if (this._kernel === kernel && this._comm === null) {
          this._probe(); // an older parsl_nb that does not announce itself
        }
      },
      () => {
        this.model.setPhase('not-loaded');
      }
    );
  }

  private _attach(comm: ICommLike, ours: boolean): void {
    if (!ours) {
      this._drop(); // the kernel opened a new comm (extension loaded again): it replaces ours
    }
    this._comm = comm;
    comm.onMsg = msg => {
      if (this._comm !== comm) {
        return;
      }
      if (this.model.receive(msg.content.data) && this.model.phase === 'connected') {
        this._wasConnected = true;
      }
    };
    comm.onClose = () => {
      this._closed(comm);
    };
    if (!ours) {
      this.model.setPhase('connecting');
      comm.send({ type: 'refresh' }); // a comm the kernel opened stays quiet until the panel speaks
    }
  }

  private _closed(comm: ICommLike): void {
    if (this._comm !== comm) {
      return;
    }
    this._comm = null;
    if (!this._restarting) {
      this.model.setPhase('not-loaded');
    }
  }

  private _drop(close = true): void {
    const comm = this._comm;
    this._comm = null;
    if (close && comm !== null && !comm.isDisposed) {
      try {
        comm.close();
      } catch {
        // the kernel is gone: nothing to close
      }
    }
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this.setKernel(null);
    this._disposed = true;
  }
}
