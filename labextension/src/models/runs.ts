/** RunsModel: one page of the workspace's runs, filtered and sorted, and the runs selected. */
import { requestAPI } from '../request';
import { PolledModel } from '../model';
import {
  IExperiment,
  IModelVersion,
  IRunsModel,
  IRunsResponse,
  IRunSummary
} from '../tokens';

export namespace RunsModel {
  export interface IOptions extends PolledModel.IOptions {
    /** Runs per page; default 100. */
    limit?: number;
    /** Only this experiment's runs; default all experiments. */
    experiment?: string;
  }
}

export class RunsModel extends PolledModel implements IRunsModel {
  constructor(options: RunsModel.IOptions = {}) {
    super({ name: 'jupyter-mlops:runs', ...options });
    this._limit = options.limit ?? 100;
    this._experiment = options.experiment ?? null;
  }

  get runs(): ReadonlyArray<IRunSummary> {
    return this._runs;
  }

  get experiments(): ReadonlyArray<IExperiment> {
    return this._experiments;
  }

  get experiment(): string | null {
    return this._experiment;
  }

  get filter(): string {
    return this._filter;
  }

  get orderBy(): string {
    return this._orderBy;
  }

  /** Whether a next page exists, and which page (from 0) is shown. */
  get hasNextPage(): boolean {
    return this._nextToken !== null;
  }

  get page(): number {
    return this._tokens.length;
  }

  get selected(): ReadonlySet<string> {
    return this._selected;
  }

  /** Metric names over the shown runs, for the table's columns and the sort menu. */
  get metricKeys(): string[] {
    const keys = new Set<string>();
    for (const run of this._runs) {
      Object.keys(run.metrics ?? {}).forEach(k => keys.add(k));
    }
    return [...keys].sort();
  }

  /** Change the query; the first page of the new query is fetched at once. */
  async setQuery(query: {
    experiment?: string | null;
    filter?: string;
    orderBy?: string;
  }): Promise<void> {
    if (query.experiment !== undefined) {
      this._experiment = query.experiment || null;
    }
    if (query.filter !== undefined) {
      this._filter = query.filter;
    }
    if (query.orderBy !== undefined) {
      this._orderBy = query.orderBy;
    }
    this._tokens = [];
    this._pageToken = null;
    await this.refresh();
  }

  async nextPage(): Promise<void> {
    if (this._nextToken === null) {
      return;
    }
    this._tokens.push(this._pageToken);
    this._pageToken = this._nextToken;
    await this.refresh();
  }

  async previousPage(): Promise<void> {
    if (this._tokens.length === 0) {
      return;
    }
    this._pageToken = this._tokens.pop() ?? null;
    await this.refresh();
  }

  toggleSelected(runId: string): void {
    if (this._selected.has(runId)) {
      this._selected.delete(runId);
    } else {
      this._selected.add(runId);
    }
    this.emitChanged();
  }

  /** The query string of the current page (exposed for tests and links). */
  queryString(): string {
    const query = new URLSearchParams({ limit: String(this._limit) });
    if (this._experiment) {
      query.set('experiment', this._experiment);
    }
    if (this._filter.trim()) {
      query.set('filter', this._filter.trim());
    }
    if (this._orderBy) {
      query.set('order_by', this._orderBy);
    }
    if (this._pageToken) {
      query.set('page_token', this._pageToken);
    }
    return query.toString();
  }

  protected async fetch(): Promise<void> {
    const [page, experiments] = await Promise.all([
      requestAPI<IRunsResponse>(`runs?${this.queryString()}`),
      this._experiments.length === 0
        ? requestAPI<{ experiments: IExperiment[] }>('experiments')
        : Promise.resolve({ experiments: this._experiments as IExperiment[] })
    ]);
    this._runs = page.runs ?? [];
    this._nextToken = page.next_page_token ?? null;
    this._experiments = experiments.experiments ?? [];
  }

  private _limit: number;
  private _experiment: string | null;
  private _filter = '';
  private _orderBy = '';
  private _pageToken: string | null = null;
  private _nextToken: string | null = null;
  private _tokens: Array<string | null> = [];
  private _runs: IRunSummary[] = [];
  private _experiments: IExperiment[] = [];
  private _selected = new Set<string>();
}

/** Register the run's model as a new version of `name` (alias `candidate`). */
export async function registerRunModel(
  runId: string,
  name: string | null,
  reason: string | null
): Promise<IModelVersion> {
  return requestAPI<IModelVersion>('models', {
    method: 'POST',
    body: JSON.stringify({ run_id: runId, name, reason })
  });
}
