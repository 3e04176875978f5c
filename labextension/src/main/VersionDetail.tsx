/**
 * A model version in the main area: its aliases, the release actions, each gate's result, and a
 * slot for the model card, which the widget renders through JupyterLab's rendermime.
 * Pure: no JupyterLab import.
 */
import * as React from 'react';

import { Btn } from '../components/buttons';
import { gateValueLines } from '../components/format';
import { IGateResult, IVersionDetail } from '../tokens';

export type ReleaseAction =
  | 'validate'
  | 'staging'
  | 'canary'
  | 'champion'
  | 'rollback'
  | 'lineage'
  | 'monitor';

export function Aliases({ aliases }: { aliases: string[] }): JSX.Element {
  return (
    <span className="jp-mlops-aliases">
      {aliases.map(a => (
        <span key={a} className={`jp-mlops-alias jp-mlops-alias-${a}`}>
          {a}
        </span>
      ))}
    </span>
  );
}

/** A gate's value or threshold, one line a figure (a mapping of KPIs reads as KPIs). */
export function GateValue({ value }: { value: unknown }): JSX.Element {
  const lines = gateValueLines(value);
  return (
    <>
      {lines.map((line, i) => (
        <div key={i} className="jp-mlops-gate-line">
          {line}
        </div>
      ))}
    </>
  );
}

export function GateResults({
  results
}: {
  results: ReadonlyArray<IGateResult>;
}): JSX.Element {
  if (results.length === 0) {
    return <div className="jp-mlops-empty">Not validated yet.</div>;
  }
  return (
    <table className="jp-mlops-table jp-mlops-gate-results">
      <colgroup>
        <col className="jp-mlops-col-gate" />
        <col className="jp-mlops-col-value" />
        <col className="jp-mlops-col-threshold" />
        <col className="jp-mlops-col-verdict" />
        <col />
      </colgroup>
      <thead>
        <tr>
          <th>gate</th>
          <th>value</th>
          <th>threshold</th>
          <th>verdict</th>
          <th>reason</th>
        </tr>
      </thead>
      <tbody>
        {results.map(g => (
          <tr
            key={g.gate}
            className={g.passed ? 'jp-mlops-pass' : 'jp-mlops-fail'}
          >
            <th scope="row">
              <span>{g.gate}</span>
            </th>
            <td>
              <GateValue value={g.value} />
            </td>
            <td>
              <GateValue value={g.threshold} />
            </td>
            <td className="jp-mlops-verdict">
              <span>{g.passed ? 'pass' : 'FAIL'}</span>
            </td>
            <td>{g.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function VersionDetailView(props: {
  detail: IVersionDetail;
  busy: boolean;
  message: { text: string; error: boolean } | null;
  canaryNote: string | null;
  onAction: (action: ReleaseAction) => void;
  /** The model card, rendered by the widget (JupyterLab's rendermime). */
  card: React.ReactNode;
}): JSX.Element {
  const { detail, onAction } = props;
  const isChampion = detail.aliases.includes('champion');
  return (
    <div
      className="jp-mlops-main-body jp-mlops-version-detail"
      data-version={detail.version}
    >
      <header className="jp-mlops-main-header">
        <h2>
          {`${detail.name} v${detail.version} `}
          <Aliases aliases={detail.aliases} />
        </h2>
        <div className="jp-mlops-detail-meta">
          {`gates ${detail.gates}` +
            (detail.rolled_back ? ' · rolled back' : '') +
            (detail.run_id ? ` · run ${detail.run_id}` : '') +
            (props.canaryNote ? ` · ${props.canaryNote}` : '')}
        </div>
        {props.message && (
          <div
            className={
              props.message.error ? 'jp-mlops-error' : 'jp-mlops-message'
            }
            role="status"
          >
            {props.message.text}
          </div>
        )}
        <div className="jp-mlops-actions" role="toolbar" aria-label="release">
          <Btn
            label="Validate"
            className="jp-mlops-validate"
            disabled={props.busy}
            onClick={() => onAction('validate')}
          />
          <Btn
            label="Promote to staging"
            className="jp-mlops-promote-staging"
            onClick={() => onAction('staging')}
          />
          <Btn
            label="Promote to canary"
            className="jp-mlops-promote-canary"
            disabled={isChampion}
            onClick={() => onAction('canary')}
          />
          <Btn
            label="Promote to champion"
            className="jp-mlops-promote-champion"
            accept
            disabled={isChampion}
            onClick={() => onAction('champion')}
          />
          <Btn
            label="Roll back"
            className="jp-mlops-rollback"
            onClick={() => onAction('rollback')}
          />
          <Btn label="Lineage" onClick={() => onAction('lineage')} />
          <Btn label="Monitor" onClick={() => onAction('monitor')} />
        </div>
      </header>
      <h3>Gates</h3>
      <GateResults results={detail.gate_results} />
      <h3>Model card</h3>
      {!detail.card && (
        <div className="jp-mlops-empty">
          No card yet: it is written when the version is validated.
        </div>
      )}
      {detail.card && props.card}
    </div>
  );
}
