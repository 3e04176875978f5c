/**
 * The list of recent runs shown in the sidebar.
 *
 * Every value coming from the store (run names, statuses, metric names) is rendered as a React
 * text node, never as HTML: a run named `<img onerror=...>` shows those characters.
 */
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { IRunsModel, IRunSummary } from '../tokens';

/** How many metrics a row shows; the rest are in the row's tooltip. */
const KEY_METRICS = 3;

function formatTime(ms: number | null): string {
  if (ms === null || ms === undefined) {
    return '';
  }
  return new Date(ms).toLocaleString();
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}

function metricEntries(run: IRunSummary): Array<[string, number]> {
  return Object.entries(run.metrics ?? {}).sort(([a], [b]) =>
    a.localeCompare(b)
  );
}

function RunRow({ run }: { run: IRunSummary }): JSX.Element {
  const metrics = metricEntries(run);
  const status = (run.status ?? '').toLowerCase();
  return (
    <li
      className="jp-mlops-run"
      data-run-id={run.run_id}
      title={metrics.map(([k, v]) => `${k} = ${formatNumber(v)}`).join('\n')}
    >
      <div className="jp-mlops-run-header">
        <span className="jp-mlops-run-name">{run.name || run.run_id}</span>
        <span className={`jp-mlops-run-status jp-mlops-status-${status}`}>
          {run.status}
        </span>
      </div>
      <div className="jp-mlops-run-start">{formatTime(run.start_time)}</div>
      {metrics.length > 0 && (
        <ul className="jp-mlops-run-metrics">
          {metrics.slice(0, KEY_METRICS).map(([key, value]) => (
            <li key={key} className="jp-mlops-run-metric">
              <span className="jp-mlops-metric-key">{key}</span>
              <span className="jp-mlops-metric-value">
                {formatNumber(value)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}

export function RunsList({ model }: { model: IRunsModel }): JSX.Element {
  if (model.error) {
    return (
      <div className="jp-mlops-error" role="alert">
        {model.error}
      </div>
    );
  }
  if (model.loading) {
    return <div className="jp-mlops-empty">Loading runs…</div>;
  }
  if (model.runs.length === 0) {
    return (
      <div className="jp-mlops-empty">
        No runs yet. Track a cell with <code>%%mlops track</code>.
      </div>
    );
  }
  return (
    <ul className="jp-mlops-runs">
      {model.runs.map(run => (
        <RunRow key={run.run_id} run={run} />
      ))}
    </ul>
  );
}

/** A Lumino widget hosting the runs list, re-rendered whenever the model changes. */
export class RunsPanel extends ReactWidget {
  constructor(private readonly _model: IRunsModel) {
    super();
    this.addClass('jp-mlops-runs-panel');
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._model.active = this.isVisible;
  }

  protected onBeforeDetach(msg: Message): void {
    this._model.active = false;
    super.onBeforeDetach(msg);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._model.active = true;
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._model.active = false;
  }

  render(): JSX.Element {
    return (
      <UseSignal signal={this._model.changed}>
        {() => <RunsList model={this._model} />}
      </UseSignal>
    );
  }
}
