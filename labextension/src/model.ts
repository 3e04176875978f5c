/**
 * RunsModel: the workspace's recent runs, polled from the server.
 *
 * Polling backs off exponentially while the server fails and stands by while the page is hidden,
 * so an idle JupyterLab tab costs the server nothing.
 */
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { requestAPI } from './request';
import { IRunsModel, IRunsResponse, IRunSummary } from './tokens';

export namespace RunsModel {
  export interface IOptions {
    /** Number of runs to show; default 20. */
    limit?: number;
    /** Only this experiment's runs; default all experiments. */
    experiment?: string;
    /** Milliseconds between polls; default 10 s. */
    interval?: number;
  }
}

export class RunsModel implements IRunsModel {
  constructor(options: RunsModel.IOptions = {}) {
    this._limit = options.limit ?? 20;
    this._experiment = options.experiment ?? null;
    const interval = options.interval ?? 10000;
    this._poll = new Poll({
      auto: true,
      factory: () => this._fetch(),
      frequency: { interval, backoff: true, max: 6 * interval },
      name: 'jupyter-mlops:runs',
      // idle while the sidebar is collapsed, and while the browser tab is hidden
      standby: () => !this._active || 'when-hidden'
    });
  }

  get runs(): ReadonlyArray<IRunSummary> {
    return this._runs;
  }

  get error(): string | null {
    return this._error;
  }

  get loading(): boolean {
    return this._loading;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get active(): boolean {
    return this._active;
  }

  /** Set by the view when shown or hidden (initially false); showing fetches at once. */
  set active(value: boolean) {
    if (value === this._active) {
      return;
    }
    this._active = value;
    if (value && !this.isDisposed) {
      void this._poll.refresh();
    }
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  async refresh(): Promise<void> {
    await this._poll.refresh();
    await this._poll.tick;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._poll.dispose();
    Signal.clearData(this);
  }

  private async _fetch(): Promise<void> {
    const query = new URLSearchParams({ limit: String(this._limit) });
    if (this._experiment) {
      query.set('experiment', this._experiment);
    }
    try {
      const body = await requestAPI<IRunsResponse>(`runs?${query.toString()}`);
      this._runs = body.runs ?? [];
      this._error = null;
    } catch (error) {
      this._error = String(error);
      throw error; // a rejected tick makes the poll back off
    } finally {
      this._loading = false;
      this._changed.emit();
    }
  }

  private _limit: number;
  private _experiment: string | null;
  private _runs: IRunSummary[] = [];
  private _error: string | null = null;
  private _loading = true;
  private _active = false;
  private _poll: Poll;
  private _changed = new Signal<this, void>(this);
}
