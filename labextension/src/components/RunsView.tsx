/**
 * Runs tab: a table with key metrics, filter and sort, compare selected runs, a run's detail
 * (open its notebook, see its cell), register its model, and its lineage.
 */
import * as React from 'react';

import { RunsModel } from '../models/runs';
import { IComparison, IRunDetail, IRunSummary } from '../tokens';
import { confirmAction } from './confirm';
import {
  ActionButton,
  Empty,
  ErrorLine,
  formatTime,
  formatValue,
  IPanelContext,
  ModelView
} from './common';

/** Metric columns shown in the table; the rest are in the row's tooltip. */
const KEY_METRICS = 3;

function Toolbar({ model }: { model: RunsModel }): JSX.Element {
  const [filter, setFilter] = React.useState(model.filter);
  const sortKeys = model.metricKeys;
  return (
    <div className="jp-mlops-runs-toolbar">
      <select
        className="jp-mlops-experiment"
        title="Experiment"
        value={model.experiment ?? ''}
        onChange={e => void model.setQuery({ experiment: e.target.value })}
      >
        <option value="">All experiments</option>
        {model.experiments
          .filter(e => !e.internal)
          .map(e => (
            <option key={e.experiment_id} value={e.name}>
              {e.name}
            </option>
          ))}
      </select>
      <form
        className="jp-mlops-filter-form"
        onSubmit={e => {
          e.preventDefault();
          void model.setQuery({ filter });
        }}
      >
        <input
          className="jp-mlops-filter jp-mod-styled"
          placeholder="filter, e.g. metrics.accuracy > 0.9"
          value={filter}
          onChange={e => setFilter(e.target.value)}
        />
      </form>
      <select
        className="jp-mlops-sort"
        title="Sort by"
        value={model.orderBy}
        onChange={e => void model.setQuery({ orderBy: e.target.value })}
      >
        <option value="">Newest first</option>
        {sortKeys.map(k => (
          <React.Fragment key={k}>
            <option
              value={`metrics.\`${k}\` DESC`}
            >{`${k} (high first)`}</option>
            <option value={`metrics.\`${k}\` ASC`}>{`${k} (low first)`}</option>
          </React.Fragment>
        ))}
      </select>
    </div>
  );
}

function RunRow(props: {
  run: IRunSummary;
  columns: string[];
  selected: boolean;
  onToggle: () => void;
  onOpen: () => void;
}): JSX.Element {
  const { run } = props;
  const status = (run.status ?? '').toLowerCase();
  const metrics = run.metrics ?? {};
  return (
    <tr
      className="jp-mlops-run"
      data-run-id={run.run_id}
      title={Object.entries(metrics)
        .map(([k, v]) => `${k} = ${formatValue(v)}`)
        .join('\n')}
    >
      <td>
        <input
          type="checkbox"
          aria-label="select for comparison"
          checked={props.selected}
          onChange={props.onToggle}
        />
      </td>
      <td className="jp-mlops-run-name" onClick={props.onOpen}>
        {run.name || run.run_id}
      </td>
      <td className={`jp-mlops-run-status jp-mlops-status-${status}`}>
        {run.status}
      </td>
      {props.columns.map(key => (
        <td key={key} className="jp-mlops-metric-value">
          {key in metrics ? formatValue(metrics[key]) : ''}
        </td>
      ))}
      <td className="jp-mlops-run-start">{formatTime(run.start_time)}</td>
    </tr>
  );
}

function Comparison({
  comparison,
  onClose
}: {
  comparison: IComparison;
  onClose: () => void;
}): JSX.Element {
  const section = (title: string, rows: IComparison['params']) =>
    rows.length > 0 && (
      <>
        <tr className="jp-mlops-section-row">
          <th colSpan={comparison.runs.length + 1}>{title}</th>
        </tr>
        {rows.map(row => (
          <tr
            key={`${title}-${row.key}`}
            className={row.differs ? 'jp-mlops-differs' : ''}
          >
            <td>{row.key}</td>
            {row.values.map((v, i) => (
              <td key={i}>{formatValue(v)}</td>
            ))}
          </tr>
        ))}
      </>
    );
  return (
    <div className="jp-mlops-comparison">
      <div className="jp-mlops-detail-header">
        <h3>Comparison</h3>
        <ActionButton label="Close" onClick={onClose} />
      </div>
      <table className="jp-mlops-table">
        <thead>
          <tr>
            <th />
            {comparison.runs.map(r => (
              <th key={r.run_id}>{r.name || r.run_id.slice(0, 8)}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {section('metrics', comparison.metrics)}
          {section('params', comparison.params)}
          {section('environment', comparison.environment)}
        </tbody>
      </table>
    </div>
  );
}

function RunDetail(props: {
  detail: IRunDetail;
  onClose: () => void;
  onRegister: () => void;
  context: IPanelContext;
}): JSX.Element {
  const { detail, context } = props;
  return (
    <div className="jp-mlops-run-detail">
      <div className="jp-mlops-detail-header">
        <h3>{detail.name || detail.run_id}</h3>
        <ActionButton label="Close" onClick={props.onClose} />
      </div>
      <div className="jp-mlops-detail-meta">
        {`${detail.status} · ${detail.kind || 'run'} · ${detail.run_id}`}
      </div>
      <div className="jp-mlops-actions">
        <ActionButton
          label="Register model"
          className="jp-mlops-register"
          title={
            detail.models.length > 0
              ? `models: ${detail.models.map(m => m.name).join(', ')}`
              : 'register the model logged by this run'
          }
          accept
          onClick={props.onRegister}
        />
        {detail.notebook_path && (
          <ActionButton
            label="Open notebook"
            onClick={() => context.openPath(detail.notebook_path as string)}
          />
        )}
        <ActionButton
          label="Lineage"
          onClick={() => context.showLineage(detail.run_id)}
        />
      </div>
      <table className="jp-mlops-table">
        <tbody>
          {Object.entries(detail.metrics).map(([k, v]) => (
            <tr key={`m-${k}`}>
              <td>{k}</td>
              <td>{formatValue(v)}</td>
            </tr>
          ))}
          {Object.entries(detail.params).map(([k, v]) => (
            <tr key={`p-${k}`} className="jp-mlops-param">
              <td>{k}</td>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {detail.datasets.length > 0 && (
        <ul className="jp-mlops-datasets">
          {detail.datasets.map(d => (
            <li
              key={d.digest}
            >{`${d.name} (${d.context ?? 'input'}) ${d.digest.slice(0, 8)}`}</li>
          ))}
        </ul>
      )}
      {detail.cell_source && (
        <pre className="jp-mlops-code">{detail.cell_source}</pre>
      )}
    </div>
  );
}

export class RunsView extends ModelView<RunsModel> {
  constructor(model: RunsModel, context: IPanelContext) {
    super(model, context);
    this.addClass('jp-mlops-runs-panel');
  }

  protected renderContent(): JSX.Element {
    const model = this.model;
    const columns = model.metricKeys.slice(0, KEY_METRICS);
    let body: JSX.Element;
    if (model.loading) {
      body = <Empty>Loading runs…</Empty>;
    } else if (model.runs.length === 0 && !model.error) {
      body = (
        <Empty>
          No runs yet. Track a cell with <code>%%mlops track</code>.
        </Empty>
      );
    } else {
      body = (
        <table className="jp-mlops-table jp-mlops-runs">
          <thead>
            <tr>
              <th />
              <th>run</th>
              <th>status</th>
              {columns.map(k => (
                <th key={k}>{k}</th>
              ))}
              <th>started</th>
            </tr>
          </thead>
          <tbody>
            {model.runs.map(run => (
              <RunRow
                key={run.run_id}
                run={run}
                columns={columns}
                selected={model.selected.has(run.run_id)}
                onToggle={() => model.toggleSelected(run.run_id)}
                onOpen={() => void this._open(run.run_id)}
              />
            ))}
          </tbody>
        </table>
      );
    }
    return (
      <div className="jp-mlops-runs-tab">
        <Toolbar model={model} />
        <ErrorLine text={model.error ?? this._message} />
        <div className="jp-mlops-actions">
          <ActionButton
            label={`Compare (${model.selected.size})`}
            className="jp-mlops-compare"
            disabled={model.selected.size < 2}
            onClick={() => void this._guard(() => model.compareSelected())}
          />
          <ActionButton
            label="Previous"
            disabled={model.page === 0}
            onClick={() => void model.previousPage()}
          />
          <ActionButton
            label="Next"
            disabled={!model.hasNextPage}
            onClick={() => void model.nextPage()}
          />
        </div>
        {model.comparison && (
          <Comparison
            comparison={model.comparison}
            onClose={() => model.closeComparison()}
          />
        )}
        {model.detail && (
          <RunDetail
            detail={model.detail}
            context={this.context}
            onClose={() => void model.showDetail(null)}
            onRegister={() => void this._register(model.detail as IRunDetail)}
          />
        )}
        {body}
      </div>
    );
  }

  private async _open(runId: string): Promise<void> {
    await this._guard(() => this.model.showDetail(runId));
  }

  private async _register(run: IRunDetail): Promise<void> {
    const answer = await confirmAction({
      title: 'Register model',
      message: `Register the model of run ${run.name || run.run_id} as a new version (alias candidate).`,
      action: 'Register',
      name: '',
      reasonOptional: true
    });
    if (!answer) {
      return;
    }
    await this._guard(async () => {
      const version = await this.model.register(
        run.run_id,
        answer.name || null,
        answer.reason || null
      );
      this.context.showModel(version.name);
    });
  }

  /** Run a user action; its error is shown above the table. */
  private async _guard(action: () => Promise<void>): Promise<void> {
    this._message = null;
    try {
      await action();
    } catch (error) {
      this._message = String(error);
    }
    this.update();
  }

  private _message: string | null = null;
}
