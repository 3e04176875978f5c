/** Monitor tab: health and drift of the served model, when monitoring exists. */
import * as React from 'react';

import { MonitorModel } from '../models/insight';
import { IMonitorReport } from '../tokens';
import {
  Empty,
  ErrorLine,
  formatTime,
  formatValue,
  IPanelContext,
  ModelView
} from './common';

const HEALTH_FIELDS = ['requests', 'error_rate', 'p50_ms', 'p95_ms', 'p99_ms'];

function Report({ report }: { report: IMonitorReport }): JSX.Element {
  const versions = Object.entries(report.health);
  const drift = Object.entries(report.drift);
  return (
    <div className="jp-mlops-monitor-report">
      <div className="jp-mlops-detail-meta">
        {`${formatTime(report.since * 1000)} – ${formatTime(report.until * 1000)} · ` +
          `${report.live_rows} predictions`}
      </div>
      {report.alerts.map((a, i) => (
        <div key={`a${i}`} className="jp-mlops-error" role="alert">
          {a}
        </div>
      ))}
      {report.problems.map((p, i) => (
        <div key={`p${i}`} className="jp-mlops-problem">
          {p}
        </div>
      ))}
      {versions.length > 0 && (
        <table className="jp-mlops-table jp-mlops-health">
          <thead>
            <tr>
              <th>version</th>
              {HEALTH_FIELDS.map(f => (
                <th key={f}>{f}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {versions.map(([version, h]) => (
              <tr key={version}>
                <td>{version}</td>
                {HEALTH_FIELDS.map(f => (
                  <td key={f}>{formatValue(h[f])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {drift.length > 0 && (
        <table className="jp-mlops-table jp-mlops-drift">
          <thead>
            <tr>
              <th>feature</th>
              <th>PSI</th>
              <th>KS</th>
              <th>drifted</th>
            </tr>
          </thead>
          <tbody>
            {drift.map(([feature, d]) => (
              <tr key={feature} className={d.drifted ? 'jp-mlops-fail' : ''}>
                <td>{feature}</td>
                <td>{formatValue(d.psi)}</td>
                <td>{formatValue(d.ks)}</td>
                <td>{d.drifted ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report.canary && (
        <div className="jp-mlops-detail-meta">
          {`canary: ${formatValue(report.canary.decision)} ${(report.canary.reasons ?? []).join('; ')}`}
        </div>
      )}
    </div>
  );
}

function Query({ model }: { model: MonitorModel }): JSX.Element {
  const [name, setName] = React.useState(model.model);
  const [window, setWindow] = React.useState(model.window);
  React.useEffect(() => setName(model.model), [model.model]);
  return (
    <form
      className="jp-mlops-runs-toolbar"
      onSubmit={e => {
        e.preventDefault();
        void model.show(name, window);
      }}
    >
      <input
        className="jp-mod-styled"
        placeholder="registered model"
        value={name}
        onChange={e => setName(e.target.value)}
      />
      <input
        className="jp-mod-styled jp-mlops-window"
        title="window, e.g. 15m, 1h, 1d"
        value={window}
        onChange={e => setWindow(e.target.value)}
      />
      <button type="submit" className="jp-mlops-button">
        Show
      </button>
    </form>
  );
}

export class MonitorView extends ModelView<MonitorModel> {
  constructor(model: MonitorModel, context: IPanelContext) {
    super(model, context);
    this.addClass('jp-mlops-monitor-panel');
  }

  protected renderContent(): JSX.Element {
    const model = this.model;
    return (
      <div className="jp-mlops-monitor-tab">
        <Query model={model} />
        <ErrorLine text={model.error} />
        {model.report ? (
          <Report report={model.report} />
        ) : (
          <Empty>Choose a served model to see its health and drift.</Empty>
        )}
      </div>
    );
  }
}
