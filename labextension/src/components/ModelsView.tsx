/**
 * Models tab: versions with their aliases, gate results and model card; Validate, Promote
 * (staging, canary with a weight, champion) and Rollback, each behind a confirmation that
 * records the reason.
 */
import * as React from 'react';

import { PromotionTarget, ReleaseModel } from '../models/release';
import { IModelVersion, IVersionDetail } from '../tokens';
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

function Aliases({ aliases }: { aliases: string[] }): JSX.Element {
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

function VersionsTable(props: {
  versions: IModelVersion[];
  selected: string | null;
  onSelect: (v: string) => void;
}): JSX.Element {
  return (
    <table className="jp-mlops-table jp-mlops-versions">
      <thead>
        <tr>
          <th>version</th>
          <th>aliases</th>
          <th>gates</th>
          <th>registered</th>
        </tr>
      </thead>
      <tbody>
        {props.versions.map(v => (
          <tr
            key={v.version}
            data-version={v.version}
            className={
              'jp-mlops-version' +
              (v.version === props.selected ? ' jp-mod-selected' : '')
            }
            onClick={() => props.onSelect(v.version)}
          >
            <td>{`v${v.version}`}</td>
            <td>
              <Aliases aliases={v.aliases} />
            </td>
            <td className={`jp-mlops-gates-${v.gates}`}>
              {v.gates + (v.rolled_back ? ' (rolled back)' : '')}
            </td>
            <td>{formatTime(v.created)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function GateResults({ detail }: { detail: IVersionDetail }): JSX.Element {
  if (detail.gate_results.length === 0) {
    return <Empty>Not validated yet.</Empty>;
  }
  return (
    <table className="jp-mlops-table jp-mlops-gate-results">
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
        {detail.gate_results.map(g => (
          <tr
            key={g.gate}
            className={g.passed ? 'jp-mlops-pass' : 'jp-mlops-fail'}
          >
            <td>{g.gate}</td>
            <td>{formatValue(g.value)}</td>
            <td>{formatValue(g.threshold)}</td>
            <td className="jp-mlops-verdict">{g.passed ? 'pass' : 'FAIL'}</td>
            <td>{g.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export class ModelsView extends ModelView<ReleaseModel> {
  constructor(model: ReleaseModel, context: IPanelContext) {
    super(model, context);
    this.addClass('jp-mlops-models-panel');
  }

  protected renderContent(): JSX.Element {
    const model = this.model;
    if (model.loading) {
      return <Empty>Loading models…</Empty>;
    }
    if (model.models.length === 0) {
      return (
        <div className="jp-mlops-models-tab">
          <ErrorLine text={model.error} />
          <Empty>
            No registered models yet. Open a run in the Runs tab and register
            its model.
          </Empty>
        </div>
      );
    }
    const versions = model.versions;
    const detail = model.detail;
    const job = model.validation;
    const message = model.message;
    return (
      <div className="jp-mlops-models-tab">
        <div className="jp-mlops-runs-toolbar">
          <select
            className="jp-mlops-model-select"
            value={model.selectedModel ?? ''}
            onChange={e => void model.selectModel(e.target.value)}
          >
            {model.models.map(m => (
              <option key={m.name} value={m.name}>
                {m.name}
              </option>
            ))}
          </select>
          {versions && 'canary' in versions.aliases && (
            <span className="jp-mlops-canary-weight">
              {`canary v${versions.aliases.canary}: ${versions.canary_weight}% of traffic`}
            </span>
          )}
        </div>
        <ErrorLine text={model.error} />
        {message && (
          <div
            className={message.error ? 'jp-mlops-error' : 'jp-mlops-message'}
            role="status"
          >
            {message.text}
          </div>
        )}
        {job && ['queued', 'running'].includes(job.status) && (
          <div className="jp-mlops-job" role="status">
            {`${job.title}: ${job.status}…`}
          </div>
        )}
        {versions && (
          <VersionsTable
            versions={versions.versions}
            selected={model.selectedVersion}
            onSelect={v => void model.selectVersion(v)}
          />
        )}
        {detail && this._renderDetail(detail)}
        {model.history.length > 0 && (
          <details className="jp-mlops-history">
            <summary>Release history</summary>
            <ul>
              {[...model.history].reverse().map((e, i) => (
                <li key={i}>
                  {`${formatTime(e.ts * 1000)}  ${e.actor}  ${e.action}` +
                    (e.version ? ` v${e.version}` : '') +
                    (e.reason ? ` — ${e.reason}` : '')}
                </li>
              ))}
            </ul>
          </details>
        )}
      </div>
    );
  }

  private _renderDetail(detail: IVersionDetail): JSX.Element {
    const running =
      this.model.validation !== null &&
      ['queued', 'running'].includes(this.model.validation.status);
    const isChampion = detail.aliases.includes('champion');
    return (
      <div className="jp-mlops-version-detail" data-version={detail.version}>
        <div className="jp-mlops-detail-header">
          <h3>{`${detail.name} v${detail.version}`}</h3>
          <Aliases aliases={detail.aliases} />
        </div>
        <div className="jp-mlops-actions">
          <ActionButton
            label="Validate"
            className="jp-mlops-validate"
            disabled={running}
            onClick={() => void this._validate(detail)}
          />
          <ActionButton
            label="Promote to staging"
            className="jp-mlops-promote-staging"
            onClick={() => void this._promote(detail, 'staging')}
          />
          <ActionButton
            label="Promote to canary"
            className="jp-mlops-promote-canary"
            disabled={isChampion}
            onClick={() => void this._promote(detail, 'canary')}
          />
          <ActionButton
            label="Promote to champion"
            className="jp-mlops-promote-champion"
            disabled={isChampion}
            onClick={() => void this._promote(detail, 'champion')}
          />
          <ActionButton
            label="Rollback"
            className="jp-mlops-rollback"
            onClick={() => void this._rollback()}
          />
          <ActionButton
            label="Lineage"
            onClick={() =>
              this.context.showLineage(
                `models:/${detail.name}/${detail.version}`
              )
            }
          />
          <ActionButton
            label="Monitor"
            onClick={() => this.context.showMonitor(detail.name)}
          />
        </div>
        <h4>Gates</h4>
        <GateResults detail={detail} />
        <h4>Model card</h4>
        {detail.card ? (
          <pre className="jp-mlops-card">{detail.card}</pre>
        ) : (
          <Empty>
            No card yet: it is written when the version is validated.
          </Empty>
        )}
      </div>
    );
  }

  private async _validate(detail: IVersionDetail): Promise<void> {
    const answer = await confirmAction({
      title: `Validate ${detail.name} v${detail.version}`,
      message:
        'Run every release gate of mlops.yaml on this version (on the evaluation data) ' +
        'and record the verdict and the model card.',
      action: 'Validate',
      reasonOptional: true
    });
    if (answer) {
      await this.model
        .validate(detail.version, answer.reason)
        .catch(() => undefined);
    }
  }

  private async _promote(
    detail: IVersionDetail,
    to: PromotionTarget
  ): Promise<void> {
    const versions = this.model.versions;
    const weight =
      to === 'canary'
        ? versions && versions.aliases.canary === detail.version
          ? versions.canary_weight
          : 10
        : undefined;
    const answer = await confirmAction({
      title: `Promote ${detail.name} v${detail.version} to ${to}`,
      message:
        to === 'champion'
          ? 'This version will serve all traffic; the current champion becomes previous.'
          : to === 'canary'
            ? 'This version will serve a share of the traffic beside the champion.'
            : 'This version becomes the staging version.',
      action: 'Promote',
      weight,
      allowForce: detail.gates !== 'passed'
    });
    if (!answer) {
      return;
    }
    await this.model
      .promote({
        version: detail.version,
        to,
        reason: answer.reason,
        weight: answer.weight,
        force: answer.force
      })
      .catch(() => undefined);
  }

  private async _rollback(): Promise<void> {
    const versions = this.model.versions;
    const aliases = versions?.aliases ?? {};
    const what =
      'canary' in aliases
        ? `The canary v${aliases.canary} is taken out of traffic.`
        : 'previous' in aliases
          ? `The previous champion v${aliases.previous} serves again.`
          : 'There is no canary and no previous champion: nothing to roll back.';
    const answer = await confirmAction({
      title: `Roll back ${this.model.selectedModel}`,
      message: what,
      action: 'Roll back'
    });
    if (answer) {
      await this.model.rollback(answer.reason).catch(() => undefined);
    }
  }
}
