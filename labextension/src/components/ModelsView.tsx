/**
 * Models tab: the registered models, and the versions of the selected one (aliases and gate
 * verdict on one line). A version opens in the main area with its release actions and card.
 */
import { HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ReleaseModel } from '../models/release';
import { IModelVersion } from '../tokens';
import { Aliases } from '../main/VersionDetail';
import { StatusMark } from './buttons';
import {
  Empty,
  ErrorLine,
  formatTime,
  IPanelContext,
  ModelView
} from './common';

function VersionList(props: {
  versions: IModelVersion[];
  selected: string | null;
  onOpen: (v: string) => void;
}): JSX.Element {
  return (
    <ul className="jp-mlops-version-list" aria-label="Versions">
      {props.versions.map(v => (
        <li
          key={v.version}
          data-version={v.version}
          className={
            'jp-mlops-version' +
            (v.version === props.selected ? ' jp-mod-selected' : '')
          }
          tabIndex={0}
          role="button"
          aria-label={`version ${v.version}, gates ${v.gates}`}
          title={`registered ${formatTime(v.created)}${v.registered_by ? ` by ${v.registered_by}` : ''}`}
          onClick={() => props.onOpen(v.version)}
          onKeyDown={e => {
            if (e.key === 'Enter' || e.key === ' ') {
              e.preventDefault();
              props.onOpen(v.version);
            }
          }}
        >
          <StatusMark status={v.gates === 'failed' ? 'failed' : v.gates} />
          <span className="jp-mlops-version-number">{`v${v.version}`}</span>
          <Aliases aliases={v.aliases} />
          {v.rolled_back && (
            <span className="jp-mlops-detail-meta">rolled back</span>
          )}
        </li>
      ))}
    </ul>
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
      return <Empty>{this.context.trans.__('Loading models…')}</Empty>;
    }
    if (model.models.length === 0) {
      return (
        <div className="jp-mlops-models-tab">
          <ErrorLine text={model.error} />
          <Empty>
            {this.context.trans.__(
              'No registered models yet. Open a run and register its model.'
            )}
          </Empty>
        </div>
      );
    }
    const versions = model.versions;
    const message = model.message;
    const name = model.selectedModel ?? '';
    return (
      <div className="jp-mlops-models-tab">
        <div className="jp-mlops-runs-toolbar">
          <HTMLSelect
            className="jp-mlops-model-select"
            aria-label={this.context.trans.__('Registered model')}
            value={name}
            onChange={e => void model.selectModel(e.target.value)}
            options={model.models.map(m => m.name)}
          />
        </div>
        {versions && 'canary' in versions.aliases && (
          <div className="jp-mlops-canary-weight">
            {`canary v${versions.aliases.canary}: ${versions.canary_weight}% of traffic`}
          </div>
        )}
        <ErrorLine text={model.error} />
        {message && (
          <div
            className={message.error ? 'jp-mlops-error' : 'jp-mlops-message'}
            role="status"
          >
            {message.text}
          </div>
        )}
        {versions && (
          <VersionList
            versions={versions.versions}
            selected={model.selectedVersion}
            onOpen={v => this.context.openVersion(name, v)}
          />
        )}
        {model.history.length > 0 && (
          <details className="jp-mlops-history">
            <summary>{this.context.trans.__('Release history')}</summary>
            <ul>
              {[...model.history].reverse().map((e, i) => (
                <li key={i}>
                  {`${formatTime(e.ts * 1000)} ${e.actor} ${e.action}` +
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
}
