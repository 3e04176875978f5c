/**
 * The gate results an approver decides on, for the sidebar's width: gate, value, verdict (the
 * threshold and the reason in the row's tooltip); and the version's figures beside the
 * champion's. Pure: no JupyterLab import.
 */
import * as React from 'react';

import { IGateResult } from '../tokens';
import { StatusMark } from './buttons';
import { formatNumber, gateValueLines } from './format';

export function CompactGates({
  results
}: {
  results: ReadonlyArray<IGateResult>;
}): JSX.Element {
  if (results.length === 0) {
    return <div className="jp-mlops-detail-meta">Not validated yet.</div>;
  }
  return (
    <table className="jp-mlops-table jp-mlops-compact-gates">
      <caption>Gates</caption>
      <tbody>
        {results.map(g => (
          <tr
            key={g.gate}
            className={g.passed ? 'jp-mlops-pass' : 'jp-mlops-fail'}
            title={`${g.reason} (threshold: ${gateValueLines(g.threshold).join(', ')})`}
          >
            <th scope="row">{g.gate}</th>
            <td className="jp-mlops-gate-value">
              {gateValueLines(g.value)[0]}
            </td>
            <td className="jp-mlops-verdict">
              <StatusMark status={g.passed ? 'passed' : 'failed'} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const PREFERRED = [
  'accuracy',
  'f1',
  'recall',
  'precision',
  'auc',
  'r2',
  'rmse'
];
const LOWER_IS_BETTER = ['rmse', 'mae', 'mse', 'log_loss'];

/** The candidate's evaluation metrics beside the champion's, the better one marked. */
export function ChampionComparison(props: {
  version: string;
  metrics: Record<string, number>;
  champion: { version?: string; metrics?: Record<string, number> } | null;
}): JSX.Element | null {
  const champion = props.champion;
  if (!champion?.version || !champion.metrics) {
    return (
      <div className="jp-mlops-detail-meta">
        No champion yet to compare with.
      </div>
    );
  }
  const theirs = champion.metrics;
  const names = Object.keys(props.metrics)
    .filter(n => typeof theirs[n] === 'number')
    .sort(
      (a, b) =>
        (PREFERRED.indexOf(a) + 1 || 99) - (PREFERRED.indexOf(b) + 1 || 99) ||
        a.localeCompare(b)
    );
  if (names.length === 0) {
    return null;
  }
  return (
    <table className="jp-mlops-table jp-mlops-comparison-table">
      <caption>Against the champion</caption>
      <thead>
        <tr>
          <th scope="col">metric</th>
          <th scope="col">{`v${props.version}`}</th>
          <th scope="col">{`v${champion.version}`}</th>
        </tr>
      </thead>
      <tbody>
        {names.map(name => {
          const mine = props.metrics[name];
          const other = theirs[name];
          const lower = LOWER_IS_BETTER.includes(name);
          const same = formatNumber(mine) === formatNumber(other);
          const better = !same && (lower ? mine < other : mine > other);
          const worse = !same && (lower ? mine > other : mine < other);
          return (
            <tr key={name} data-metric={name}>
              <th scope="row">{name}</th>
              <td
                className={
                  better
                    ? 'jp-mlops-better'
                    : worse
                      ? 'jp-mlops-worse'
                      : undefined
                }
              >
                {formatNumber(mine) + (better ? ' ▲' : worse ? ' ▼' : '')}
              </td>
              <td>{formatNumber(other)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
