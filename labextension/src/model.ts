/**
 * PolledModel: data kept fresh by polling the server, and the models built on it.
 *
 * Polling backs off exponentially while the server fails and stands by while the panel is
 * collapsed or the page is hidden, so an idle JupyterLab tab costs the server nothing.
 */
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { IPolledModel } from './tokens';

export namespace PolledModel {
  export interface IOptions {
    /** Milliseconds between polls; default 10 s. */
    interval?: number;
    /** A name for the poll (shown by Lumino's debugging helpers). */
    name?: string;
  }
}

export abstract class PolledModel implements IPolledModel {
  constructor(options: PolledModel.IOptions = {}) {
    const interval = options.interval ?? 10000;
    this._poll = new Poll({
      auto: true,
      factory: () => this._tick(),
      frequency: { interval, backoff: true, max: 6 * interval },
      name: options.name ?? 'jupyter-mlops',
      // idle while no view shows the data, and while the browser tab is hidden
      standby: () => !this.active || 'when-hidden'
    });
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

  /** Whether any view shows the data (the model polls only then). */
  get active(): boolean {
    return this._viewers.size > 0;
  }

  /** Set by the one view of a model when shown or hidden; showing fetches at once. */
  set active(value: boolean) {
    this.setShownBy(this, value);
  }

  /**
   * Record whether `viewer` (a sidebar tab, a main-area tab) shows the data: the model polls
   * while at least one does, and fetches at once when the first one appears.
   */
  setShownBy(viewer: object, shown: boolean): void {
    const before = this.active;
    if (shown) {
      this._viewers.add(viewer);
    } else {
      this._viewers.delete(viewer);
    }
    if (!before && this.active && !this.isDisposed) {
      void this._poll.refresh();
    }
  }

  /** Milliseconds between polls (backing off to six times that while the server fails). */
  get pollInterval(): number {
    return this._poll.frequency.interval;
  }

  set pollInterval(interval: number) {
    if (this.isDisposed || interval === this.pollInterval) {
      return;
    }
    this._poll.frequency = { interval, backoff: true, max: 6 * interval };
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  /** Fetch now; resolves once the answer (or the error) is in the model. */
  async refresh(): Promise<void> {
    if (this.isDisposed) {
      return;
    }
    await this._poll.refresh();
    await this._poll.tick.catch(() => undefined);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._poll.dispose();
    Signal.clearData(this);
  }

  /** Subclasses fetch and store their data here; a rejection is shown and backs off. */
  protected abstract fetch(): Promise<void>;

  protected emitChanged(): void {
    if (!this.isDisposed) {
      this._changed.emit();
    }
  }

  private async _tick(): Promise<void> {
    try {
      await this.fetch();
      this._error = null;
    } catch (error) {
      this._error = String(error);
      throw error; // a rejected tick makes the poll back off
    } finally {
      this._loading = false;
      this.emitChanged();
    }
  }

  private _error: string | null = null;
  private _loading = true;
  private _viewers = new Set<object>();
  private _poll: Poll;
  private _changed = new Signal<this, void>(this);
}
