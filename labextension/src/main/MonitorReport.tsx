/**
 * A served model's monitoring report in the main area: health, drift and quality (from late
 * labels) over time as charts, then the window's tables. Pure: no JupyterLab import.
 */
import * as React from 'react';

import { ISeries, LineChart } from '../components/charts';
import { formatTime, formatValue } from '../components/format';
import { IMonitorReport, IQualitySummary } from '../tokens';

const HEALTH_FIELDS: Array<[string, string]> = [
  ['requests', 'requests'],
  ['error_rate', 'error rate'],
  ['latency_p50_ms', 'p50 ms'],
  ['latency_p95_ms', 'p95 ms'],
  ['latency_p99_ms', 'p99 ms']
];

const clock = (seconds: number) =>
  new Date(seconds * 1000).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit'
  });

/** `v3` for a version; the summary over every version is `all`. */
export function versionLabel(version: string): string {
  return version === 'all' ? 'all' : `v${version}`;
}

/** One series per version of `field` over the time buckets. */
export function healthSeries(report: IMonitorReport, field: string): ISeries[] {
  const byVersion = new Map<string, Array<[number, number]>>();
  for (const row of report.health_over_time ?? []) {
    const value = row[field];
    const start = row.bucket_start;
    if (typeof value !== 'number' || typeof start !== 'number') {
      continue;
    }
    const key = versionLabel(String(row.version));
    byVersion.set(key, [...(byVersion.get(key) ?? []), [start, value]]);
  }
  return [...byVersion.entries()].map(([name, points]) => ({ name, points }));
}

/** One series per feature: its PSI over the time buckets. */
export function driftSeries(report: IMonitorReport): ISeries[] {
  const byFeature = new Map<string, Array<[number, number]>>();
  for (const bucket of report.drift_over_time ?? []) {
    for (const [feature, psi] of Object.entries(bucket.psi)) {
      byFeature.set(feature, [
        ...(byFeature.get(feature) ?? []),
        [bucket.bucket_start, psi]
      ]);
    }
  }
  return [...byFeature.entries()].map(([name, points]) => ({ name, points }));
}

/** The figure a quality chart follows: accuracy for a classifier, RMSE for a regressor. */
export function qualityMetric(quality: IQualitySummary): string {
  return quality.task === 'regression' ? 'rmse' : 'accuracy';
}

/** One series per version of a quality figure over the time buckets. */
export function qualitySeries(
  quality: IQualitySummary | null,
  metric: string
): ISeries[] {
  const byVersion = new Map<string, Array<[number, number]>>();
  for (const bucket of quality?.over_time ?? []) {
    const value = bucket.metrics[metric];
    if (typeof value !== 'number') {
      continue;
    }
    const key = versionLabel(bucket.version);
    byVersion.set(key, [
      ...(byVersion.get(key) ?? []),
      [bucket.bucket_start, value]
    ]);
  }
  return [...byVersion.entries()].map(([name, points]) => ({ name, points }));
}

/** Quality per version: labeled predictions, then each figure. */
export function QualityTable({
  quality
}: {
  quality: IQualitySummary;
}): JSX.Element {
  const versions = Object.entries(quality.by_version);
  const metrics = [
    ...new Set(versions.flatMap(([, q]) => Object.keys(q.metrics)))
  ];
  const coverage =
    quality.coverage === null ? '-' : `${(quality.coverage * 100).toFixed(1)}%`;
  return (
    <section className="jp-mlops-quality" aria-label="quality from late labels">
      <div className="jp-mlops-detail-meta">
        {`quality (${quality.task ?? 'no labeled predictions'}): ` +
          `${quality.labeled} of ${quality.predictions} predictions labeled ` +
          `(${coverage}), ${quality.labels} labels known`}
      </div>
      {versions.length > 0 && (
        <table className="jp-mlops-table jp-mlops-quality-table">
          <thead>
            <tr>
              <th>version</th>
              <th>labeled</th>
              {metrics.map(m => (
                <th key={m}>{m}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {versions.map(([version, q]) => (
              <tr key={version}>
                <th scope="row">{versionLabel(version)}</th>
                <td>{q.labeled}</td>
                {metrics.map(m => (
                  <td key={m}>{formatValue(q.metrics[m])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function MonitorReportView({
  report
}: {
  report: IMonitorReport;
}): JSX.Element {
  const versions = Object.entries(report.health);
  const drift = Object.entries(report.drift);
  const quality = report.quality;
  const metric = quality ? qualityMetric(quality) : 'accuracy';
  const charts: Array<[string, ISeries[]]> = [
    ['requests per bucket', healthSeries(report, 'requests')],
    ['error rate', healthSeries(report, 'error_rate')],
    ['p95 latency (ms)', healthSeries(report, 'latency_p95_ms')],
    ['input drift (PSI)', driftSeries(report)],
    [`${metric} (late labels)`, qualitySeries(quality, metric)]
  ];
  return (
    <div className="jp-mlops-main-body jp-mlops-monitor-report">
      <header className="jp-mlops-main-header">
        <h2>{`Monitoring of ${report.model}`}</h2>
        <div className="jp-mlops-detail-meta">
          {`${formatTime(report.since * 1000)} – ${formatTime(report.until * 1000)} · ` +
            `${report.live_rows} predictions · reference ${report.reference || '-'}`}
        </div>
      </header>
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
      <section
        className="jp-mlops-charts"
        aria-label="health and drift over time"
      >
        {charts
          .filter(([, series]) => series.some(s => s.points.length > 0))
          .map(([title, series]) => (
            <LineChart
              key={title}
              title={title}
              series={series}
              formatX={clock}
            />
          ))}
      </section>
      {versions.length > 0 && (
        <table className="jp-mlops-table jp-mlops-health">
          <thead>
            <tr>
              <th>version</th>
              {HEALTH_FIELDS.map(([f, label]) => (
                <th key={f}>{label}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {versions.map(([version, h]) => (
              <tr key={version}>
                <th scope="row">{versionLabel(version)}</th>
                {HEALTH_FIELDS.map(([f]) => (
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
                <th scope="row">{feature}</th>
                <td>{formatValue(d.psi)}</td>
                <td>{formatValue(d.ks)}</td>
                <td>{d.drifted ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {quality && <QualityTable quality={quality} />}
      {report.canary && (
        <div className="jp-mlops-detail-meta">
          {`canary: ${formatValue(report.canary.decision)} ${(report.canary.reasons ?? []).join('; ')}`}
        </div>
      )}
    </div>
  );
}
