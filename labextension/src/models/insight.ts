/** LineageModel (the graph around a focus node) and MonitorModel (a served model's health). */
import { requestAPI } from '../request';
import { PolledModel } from '../model';
import {
  ILineageGraph,
  IModelSummary,
  IMonitorReport,
  IRunsResponse
} from '../tokens';

/** A place the lineage can start from: a recent run or a registered version. */
export interface ILineageStart {
  ref: string;
  label: string;
  kind: 'run' | 'model_version';
}

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

  /** The selected run or version first, then recent runs and served versions. */
  get starts(): ReadonlyArray<ILineageStart> {
    const selected = this._selected;
    if (!selected) {
      return this._starts;
    }
    return [selected, ...this._starts.filter(s => s.ref !== selected.ref)];
  }

  /** The run or version the user opened last: the first place to start from. */
  select(start: ILineageStart): void {
    this._selected = start;
    this.emitChanged();
  }

  protected async fetch(): Promise<void> {
    if (!this._node) {
      this._graph = null;
      this._starts = await this._fetchStarts();
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

  private async _fetchStarts(): Promise<ILineageStart[]> {
    const [runs, models] = await Promise.all([
      requestAPI<IRunsResponse>('runs?limit=8'),
      requestAPI<{ models: IModelSummary[] }>('models')
    ]);
    const versions: ILineageStart[] = (models.models ?? []).flatMap(m => {
      const version = m.aliases.champion ?? Object.values(m.aliases)[0];
      return version
        ? [
            {
              ref: `models:/${m.name}/${version}`,
              label: `${m.name} v${version}`,
              kind: 'model_version' as const
            }
          ]
        : [];
    });
    const recent: ILineageStart[] = (runs.runs ?? []).map(r => ({
      ref: r.run_id,
      label: r.name || r.run_id.slice(0, 8),
      kind: 'run' as const
    }));
    return [...versions, ...recent];
  }

  private _node = '';
  private _direction: Direction = 'both';
  private _graph: ILineageGraph | null = null;
  private _starts: ILineageStart[] = [];
  private _selected: ILineageStart | null = null;
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

  /** Registered models, the served ones (champion or canary) first. */
  get models(): ReadonlyArray<IModelSummary> {
    return this._models;
  }

  async show(model: string, window = this._window): Promise<void> {
    this._model = model.trim();
    this._window = window.trim() || '1h';
    this._report = null;
    this.emitChanged();
    await this.refresh();
  }

  protected async fetch(): Promise<void> {
    const listed = await requestAPI<{ models: IModelSummary[] }>('models');
    this._models = servedFirst(listed.models ?? []);
    if (!this._model) {
      this._report = null;
      return;
    }
    const query = new URLSearchParams({ window: this._window });
    this._report = await requestAPI<IMonitorReport>(
      `monitor/${encodeURIComponent(this._model)}?${query.toString()}`
    );
  }

  private _models: IModelSummary[] = [];
  private _model = '';
  private _window = '1h';
  private _report: IMonitorReport | null = null;
}

/** Whether a model serves traffic: it has a champion or a canary. */
export function isServed(model: IModelSummary): boolean {
  return 'champion' in model.aliases || 'canary' in model.aliases;
}

export function servedFirst(models: IModelSummary[]): IModelSummary[] {
  return [...models].sort(
    (a, b) =>
      Number(isServed(b)) - Number(isServed(a)) || a.name.localeCompare(b.name)
  );
}
