/**
 * A run in the main area: its metric curves over steps, its params, datasets and cell, and the
 * actions on it. Pure: data in, callbacks out, no JupyterLab import.
 */
import * as React from 'react';

import { Btn, StatusMark } from '../components/buttons';
import { LineChart } from '../components/charts';
import { formatTime, formatValue } from '../components/format';
import { IComparison, IRunDetail } from '../tokens';
import { BarChart } from '../components/charts';

export interface IRunActions {
  onRegister: () => void;
  onOpenNotebook: (path: string) => void;
  onLineage: () => void;
}

/** Metrics logged at several steps get a curve; the others a row of the table. */
function splitCurves(detail: IRunDetail): [string[], string[]] {
  const curves = detail.curves ?? {};
  const drawn = Object.keys(curves)
    .filter(k => (curves[k] ?? []).length > 1)
    .sort();
  const plain = Object.keys(detail.metrics)
    .filter(k => !drawn.includes(k))
    .sort();
  return [drawn, plain];
}

export function RunDetailView(
  props: { detail: IRunDetail } & IRunActions
): JSX.Element {
  const { detail } = props;
  const [drawn, plain] = splitCurves(detail);
  return (
    <div className="jp-mlops-main-body jp-mlops-run-detail">
      <header className="jp-mlops-main-header">
        <h2>
          <StatusMark status={detail.status} /> {detail.name || detail.run_id}
        </h2>
        <div className="jp-mlops-detail-meta">
          {`${detail.status} · ${detail.kind || 'run'} · ${detail.run_id} · ` +
            formatTime(detail.start_time)}
        </div>
        <div className="jp-mlops-actions">
          <Btn
            label="Register model"
            className="jp-mlops-register"
            accept
            title={
              detail.models.length > 0
                ? `register ${detail.models.map(m => m.name).join(', ')}`
                : 'register the model logged by this run'
            }
            onClick={props.onRegister}
          />
          {detail.notebook_path && (
            <Btn
              label="Open notebook"
              onClick={() =>
                props.onOpenNotebook(detail.notebook_path as string)
              }
            />
          )}
          <Btn label="Lineage" onClick={props.onLineage} />
        </div>
      </header>
      {drawn.length > 0 && (
        <section className="jp-mlops-charts" aria-label="metric curves">
          {drawn.map(key => (
            <LineChart
              key={key}
              title={key}
              xLabel="step"
              series={[{ name: key, points: detail.curves[key] }]}
            />
          ))}
        </section>
      )}
      <div className="jp-mlops-columns">
        <section>
          <h3>Metrics</h3>
          <table className="jp-mlops-table jp-mlops-kv">
            <tbody>
              {[...drawn, ...plain].map(k => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>{formatValue(detail.metrics[k])}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section>
          <h3>Params</h3>
          <table className="jp-mlops-table jp-mlops-kv">
            <tbody>
              {Object.entries(detail.params).map(([k, v]) => (
                <tr key={k} className="jp-mlops-param">
                  <th scope="row">{k}</th>
                  <td>{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
      {detail.datasets.length > 0 && (
        <section>
          <h3>Datasets</h3>
          <ul className="jp-mlops-datasets">
            {detail.datasets.map(d => (
              <li key={d.digest}>
                {`${d.name} (${d.context ?? 'input'}) ${d.digest.slice(0, 8)}`}
              </li>
            ))}
          </ul>
        </section>
      )}
      {detail.cell_source && (
        <section>
          <h3>Cell</h3>
          <pre className="jp-mlops-code">{detail.cell_source}</pre>
        </section>
      )}
    </div>
  );
}

/** Runs side by side: a bar chart per metric, then every differing param and metric. */
export function ComparisonView({
  comparison
}: {
  comparison: IComparison;
}): JSX.Element {
  const labels = comparison.runs.map(r => r.name || r.run_id.slice(0, 8));
  const numeric = comparison.metrics.filter(row =>
    row.values.some(v => typeof v === 'number')
  );
  const section = (title: string, rows: IComparison['params']) =>
    rows.length > 0 && (
      <>
        <tr className="jp-mlops-section-row">
          <th colSpan={labels.length + 1}>{title}</th>
        </tr>
        {rows.map(row => (
          <tr
            key={`${title}-${row.key}`}
            className={row.differs ? 'jp-mlops-differs' : ''}
          >
            <th scope="row">{row.key}</th>
            {row.values.map((v, i) => (
              <td key={i}>{formatValue(v)}</td>
            ))}
          </tr>
        ))}
      </>
    );
  return (
    <div className="jp-mlops-main-body jp-mlops-comparison">
      <header className="jp-mlops-main-header">
        <h2>{`Comparison of ${labels.length} runs`}</h2>
      </header>
      <section className="jp-mlops-charts" aria-label="metric bars">
        {numeric.map(row => (
          <BarChart
            key={row.key}
            title={row.key}
            bars={labels.map((label, i) => ({
              label,
              value: typeof row.values[i] === 'number' ? row.values[i] : null
            }))}
          />
        ))}
      </section>
      <table className="jp-mlops-table">
        <thead>
          <tr>
            <th />
            {labels.map((label, i) => (
              <th key={i}>{label}</th>
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
