/**
 * Monitor tab: the registered models, served ones first, to pick from; the chosen model's
 * health and drift report opens in the main area, with charts over time.
 */
import { HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { isServed, MonitorModel } from '../models/insight';
import { Aliases } from '../main/VersionDetail';
import { Empty, ErrorLine, IPanelContext, ModelView } from './common';

const WINDOWS = ['15m', '1h', '6h', '1d', '7d'];

export class MonitorView extends ModelView<MonitorModel> {
  constructor(model: MonitorModel, context: IPanelContext) {
    super(model, context);
    this.addClass('jp-mlops-monitor-panel');
  }

  protected renderContent(): JSX.Element {
    const model = this.model;
    const open = (name: string) => this.context.showMonitor(name);
    return (
      <div className="jp-mlops-monitor-tab">
        <div className="jp-mlops-runs-toolbar">
          <label className="jp-mlops-detail-meta" htmlFor="jp-mlops-window">
            {this.context.trans.__('Window')}
          </label>
          <HTMLSelect
            id="jp-mlops-window"
            className="jp-mlops-window"
            aria-label={this.context.trans.__('Window')}
            value={model.window}
            onChange={e => void model.show(model.model, e.target.value)}
            options={WINDOWS}
          />
        </div>
        <ErrorLine text={model.error} />
        {model.loading ? (
          <Empty>{this.context.trans.__('Loading models…')}</Empty>
        ) : model.models.length === 0 ? (
          <Empty>
            {this.context.trans.__(
              'No registered models yet: nothing is served.'
            )}
          </Empty>
        ) : (
          <ul className="jp-mlops-monitor-models" aria-label="Models">
            {model.models.map(m => (
              <li
                key={m.name}
                data-model={m.name}
                className={
                  'jp-mlops-monitor-model' +
                  (m.name === model.model ? ' jp-mod-selected' : '') +
                  (isServed(m) ? '' : ' jp-mlops-not-served')
                }
                tabIndex={0}
                role="button"
                title={
                  isServed(m) ? `${m.name}: served` : `${m.name}: not served`
                }
                onClick={() => open(m.name)}
                onKeyDown={e => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    open(m.name);
                  }
                }}
              >
                <span className="jp-mlops-monitor-name">{m.name}</span>
                <Aliases
                  aliases={Object.entries(m.aliases)
                    .filter(([a]) => a === 'champion' || a === 'canary')
                    .map(([a]) => a)}
                />
              </li>
            ))}
          </ul>
        )}
      </div>
    );
  }
}
