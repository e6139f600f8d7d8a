/**
 * parsl-nb: a JupyterLab side panel for the parsl_nb session of the active notebook's kernel.
 *
 * The panel follows the active notebook, talks to its kernel through the `parsl_nb.panel`
 * comm (see `link.ts`) and shows executors, blocks, engines, task counts, per-app progress
 * and recent failures; a status-bar item shows running / done / failed counts.
 */

import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { OutputAreaModel, SimplifiedOutputArea } from '@jupyterlab/outputarea';
import { Kernel } from '@jupyterlab/services';
import { IStatusBar } from '@jupyterlab/statusbar';
import { LabIcon } from '@jupyterlab/ui-components';
import { Signal } from '@lumino/signaling';

import { IKernelLike, LOAD_CODE, SessionLink } from './link';
import { PanelModel } from './model';
import { ParslPanel, ParslStatus } from './panel';

const PLUGIN_ID = 'parsl-nb:panel';
export const PANEL_ID = 'parsl-nb-panel';
/** The code a graph tab runs in the kernel; its output (the live DAG widget) fills the tab. */
export const DAG_CODE = '%parsl_dag';

export namespace CommandIDs {
  export const openPanel = 'parsl-nb:open-panel';
  export const openDag = 'parsl-nb:open-dag';
  export const cancelPending = 'parsl-nb:cancel-pending';
  export const scaleOut = 'parsl-nb:scale-out';
  export const scaleIn = 'parsl-nb:scale-in';
}

const parslIcon = new LabIcon({
  name: 'parsl-nb:icon',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<circle cx="5" cy="5" r="3"/><circle cx="5" cy="19" r="3"/><circle cx="19" cy="12" r="3"/>' +
    '<path d="M7 6l10 5v2L7 18v-2l8-4-8-4z"/></g></svg>'
});

let dagCount = 0;

/** Run `%parsl_dag` in the notebook's kernel and show its output in a main-area tab beside it. */
function openDag(app: JupyterFrontEnd, nb: NotebookPanel): MainAreaWidget | null {
  const kernel = nb.sessionContext.session?.kernel;
  if (!kernel) {
    return null;
  }
  // the notebook's rendermime knows the widget manager of this kernel, so the live widget renders
  const area = new SimplifiedOutputArea({
    model: new OutputAreaModel({ trusted: true }),
    rendermime: nb.content.rendermime
  });
  area.future = kernel.requestExecute({ code: DAG_CODE, silent: false, store_history: false });
  const widget = new MainAreaWidget({ content: area });
  widget.id = `parsl-nb-dag-${++dagCount}`;
  widget.title.label = `Parsl graph \u00b7 ${nb.title.label}`;
  widget.title.icon = parslIcon;
  widget.title.closable = true;
  widget.addClass('parsl-nb-dag-tab');
  app.shell.add(widget, 'main', { mode: 'split-right', ref: nb.id });
  return widget;
}

function activate(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  palette: ICommandPalette | null,
  statusBar: IStatusBar | null,
  restorer: ILayoutRestorer | null,
  labShell: ILabShell | null
): void {
  const model = new PanelModel();
  const link = new SessionLink(model);
  let followed: NotebookPanel | null = null;

  const kernelOf = (nb: NotebookPanel | null): Kernel.IKernelConnection | null =>
    nb?.sessionContext.session?.kernel ?? null;
  const onKernel = (): void => {
    const kernel = kernelOf(followed);
    link.setKernel(kernel as unknown as IKernelLike | null, kernel?.status ?? 'unknown');
  };
  const onStatus = (): void => {
    const kernel = kernelOf(followed);
    if (kernel) {
      link.setStatus(kernel.status);
    }
  };
  const follow = (nb: NotebookPanel | null): void => {
    if (nb === followed) {
      return;
    }
    if (followed) {
      followed.sessionContext.kernelChanged.disconnect(onKernel);
      followed.sessionContext.statusChanged.disconnect(onStatus);
    }
    followed = nb;
    link.setKernel(null);
    model.follow(nb ? nb.title.label : null);
    if (nb) {
      nb.sessionContext.kernelChanged.connect(onKernel);
      nb.sessionContext.statusChanged.connect(onStatus);
      onKernel();
    }
  };
  tracker.currentChanged.connect((_, nb) => {
    follow(nb);
  });
  follow(tracker.currentWidget);

  const send = (data: Record<string, unknown>): void => {
    if (!link.send(data)) {
      model.say(false, 'not connected to a kernel with parsl_nb loaded');
    }
  };
  const scale = (executor: string, blocks: number): void => {
    const target = executor || model.scalable?.label;
    send(model.request('scale', target ? { blocks, executor: target } : { blocks }));
  };
  const actions = {
    openDag: () => {
      if (followed) {
        openDag(app, followed);
      }
    },
    scale,
    cancelPending: () => {
      send(model.request('cancel_pending'));
    },
    loadExtension: () => void link.kernel?.requestExecute({ code: LOAD_CODE, silent: true, store_history: false }),
    refresh: () => {
      send({ type: 'refresh' });
    }
  };

  const panel = new ParslPanel(model, actions);
  panel.id = PANEL_ID;
  panel.title.icon = parslIcon;
  panel.title.caption = 'Parsl session';
  app.shell.add(panel, 'right', { rank: 650 });
  restorer?.add(panel, PANEL_ID);

  const loaded = (): boolean => model.loaded;
  app.commands.addCommand(CommandIDs.openPanel, {
    label: 'Parsl: Show Session Panel',
    caption: 'Executors, blocks, task counts and failures of the active notebook\u2019s parsl_nb session',
    execute: () => {
      if (labShell) {
        labShell.activateById(PANEL_ID);
      } else {
        app.shell.activateById(PANEL_ID);
      }
    }
  });
  app.commands.addCommand(CommandIDs.openDag, {
    label: 'Parsl: Open Task Graph of This Kernel',
    isEnabled: loaded,
    execute: () => (followed ? openDag(app, followed) : null)
  });
  app.commands.addCommand(CommandIDs.cancelPending, {
    label: 'Parsl: Cancel Pending Tasks',
    isEnabled: loaded,
    execute: () => {
      actions.cancelPending();
    }
  });
  app.commands.addCommand(CommandIDs.scaleOut, {
    label: 'Parsl: Add a Block',
    isEnabled: () => model.scalable !== null,
    execute: () => {
      scale('', 1);
    }
  });
  app.commands.addCommand(CommandIDs.scaleIn, {
    label: 'Parsl: Remove a Block',
    isEnabled: () => model.scalable !== null,
    execute: () => {
      scale('', -1);
    }
  });
  for (const command of Object.values(CommandIDs)) {
    palette?.addItem({ command, category: 'Parsl' });
  }
  model.subscribe(() => {
    app.commands.notifyCommandChanged();
  });

  if (statusBar) {
    const item = new ParslStatus(model, () => void app.commands.execute(CommandIDs.openPanel));
    const activeStateChanged = new Signal<ParslStatus, void>(item);
    let wasActive = false;
    model.subscribe(() => {
      const active = model.phase === 'connected';
      if (active !== wasActive) {
        wasActive = active;
        activeStateChanged.emit(undefined);
      }
    });
    statusBar.registerStatusItem('parsl-nb:status', {
      item,
      align: 'left',
      rank: 5,
      isActive: () => model.phase === 'connected',
      activeStateChanged
    });
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'A side panel and a status-bar item for the parsl_nb session of the active notebook.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, IStatusBar, ILayoutRestorer, ILabShell],
  activate
};

export default plugin;
