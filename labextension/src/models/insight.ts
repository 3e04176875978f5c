/** LineageModel (the graph around a focus node) and MonitorModel (a served model's health). */
import { requestAPI } from '../request';
import { PolledModel } from '../model';
import { ILineageGraph, IMonitorReport } from '../tokens';

export type Direction = 'both' | 'up' | 'down';

/** The lineage graph around a run, dataset version or model version; fetched on demand. */
export class LineageModel extends PolledModel {
  constructor(options: PolledModel.IOptions = {}) {
    super({ name: 'jupyter-mlops:lineage', interval: 60000, ...options });
  }

  get node(): string {
    return this._node;
  }

  get direction(): Direction {
    return this._direction;
  }

  get graph(): ILineageGraph | null {
    return this._graph;
  }

  async show(
    node: string,
    direction: Direction = this._direction
  ): Promise<void> {
    this._node = node.trim();
    this._direction = direction;
    this._graph = null;
    this.emitChanged();
    await this.refresh();
  }

  protected async fetch(): Promise<void> {
    if (!this._node) {
      this._graph = null;
      return;
    }
    const query = new URLSearchParams({
      node: this._node,
      direction: this._direction
    });
    this._graph = await requestAPI<ILineageGraph>(
      `lineage?${query.toString()}`
    );
  }

  private _node = '';
  private _direction: Direction = 'both';
  private _graph: ILineageGraph | null = null;
}

/** Health and drift of a served model over a window, refreshed every 30 s while shown. */
export class MonitorModel extends PolledModel {
  constructor(options: PolledModel.IOptions = {}) {
    super({ name: 'jupyter-mlops:monitor', interval: 30000, ...options });
  }

  get model(): string {
    return this._model;
  }

  get window(): string {
    return this._window;
  }

  get report(): IMonitorReport | null {
    return this._report;
  }

  async show(model: string, window = this._window): Promise<void> {
    this._model = model.trim();
    this._window = window.trim() || '1h';
    this._report = null;
    this.emitChanged();
    await this.refresh();
  }

  protected async fetch(): Promise<void> {
    if (!this._model) {
      this._report = null;
      return;
    }
    const query = new URLSearchParams({ window: this._window });
    this._report = await requestAPI<IMonitorReport>(
      `monitor/${encodeURIComponent(this._model)}?${query.toString()}`
    );
  }

  private _model = '';
  private _window = '1h';
  private _report: IMonitorReport | null = null;
}
