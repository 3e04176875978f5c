/**
 * Opens what deserves room in JupyterLab's main area, one tab per thing: a run, a comparison,
 * the selected model version, the lineage graph, a monitoring report. Opening the same thing
 * twice brings its tab to the front instead of making another.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { IPanelContext } from './components/common';
import { mlopsIcon } from './icons';
import {
  ComparisonPanel,
  LineagePanel,
  MonitorPanel,
  RunPanel,
  VersionPanel
} from './main/panels';
import { ISidebarModels } from './components/Sidebar';

function domId(key: string): string {
  return 'jp-mlops-main-' + key.replace(/[^A-Za-z0-9_-]/g, '_');
}

export class MainArea {
  constructor(
    private readonly shell: JupyterFrontEnd.IShell,
    private readonly models: ISidebarModels,
    private readonly rendermime: IRenderMimeRegistry | null
  ) {}

  /** Set once the sidebar exists (the panels reach the sidebar through it). */
  context: IPanelContext | null = null;

  /** The open run tabs, which the layout restorer brings back after a reload. */
  readonly runs = new WidgetTracker<MainAreaWidget<RunPanel>>({
    namespace: 'jupyter-mlops-run'
  });

  openRun(runId: string): void {
    const widget = this._open(
      `run-${runId}`,
      `Run ${runId.slice(0, 8)}`,
      () => {
        return new RunPanel(runId, this._context());
      }
    );
    if (widget && !this.runs.has(widget)) {
      void this.runs.add(widget as MainAreaWidget<RunPanel>);
    }
  }

  compare(runIds: string[]): void {
    const key = `compare-${[...runIds].sort().join('-')}`;
    this._open(key, `Compare ${runIds.length} runs`, () => {
      return new ComparisonPanel(runIds);
    });
  }

  async openVersion(name: string, version: string): Promise<void> {
    const release = this.models.release;
    if (release.selectedModel !== name) {
      await release.selectModel(name);
    }
    this._open('version', `${name} v${version}`, () => {
      if (!this.rendermime) {
        throw new Error('JupyterLab has no rendermime registry');
      }
      return new VersionPanel(release, this._context(), this.rendermime);
    });
    await release.selectVersion(version);
  }

  openLineage(): void {
    this._open('lineage', 'Lineage', () => {
      return new LineagePanel(this.models.lineage, this._context());
    });
  }

  openMonitor(name: string): void {
    this._open('monitor', `Monitor ${name}`, () => {
      return new MonitorPanel(this.models.monitor, this._context());
    });
  }

  private _context(): IPanelContext {
    if (!this.context) {
      throw new Error('the MLOps sidebar is not ready');
    }
    return this.context;
  }

  private _open(
    key: string,
    label: string,
    create: () => Widget,
    icon: LabIcon = mlopsIcon
  ): MainAreaWidget | null {
    const existing = this._widgets.get(key);
    if (existing && !existing.isDisposed) {
      existing.title.label = label;
      this.shell.activateById(existing.id);
      return null;
    }
    const content = create();
    const widget = new MainAreaWidget({ content });
    widget.id = domId(key);
    widget.title.label = label;
    widget.title.icon = icon;
    widget.title.closable = true;
    widget.addClass('jp-mlops-main');
    this._widgets.set(key, widget);
    this.shell.add(widget, 'main');
    this.shell.activateById(widget.id);
    return widget;
  }

  private _widgets = new Map<string, MainAreaWidget>();
}
