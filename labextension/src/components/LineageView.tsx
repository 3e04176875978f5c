/**
 * Lineage tab: pick where to start (the selected run or version, a recent run, a served
 * version), then move from node to node; the graph itself opens as a picture in the main area.
 */
import { HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { COLUMN_TITLES, refOf } from '../main/LineageGraph';
import { Direction, LineageModel } from '../models/insight';
import { Btn } from './buttons';
import { Empty, ErrorLine, IPanelContext, ModelView } from './common';

const KIND_LABELS: Record<string, string> = {
  model_version: 'version',
  dataset: 'data'
};

export class LineageView extends ModelView<LineageModel> {
  constructor(
    model: LineageModel,
    context: IPanelContext,
    private readonly openGraph: () => void
  ) {
    super(model, context);
    this.addClass('jp-mlops-lineage-panel');
  }

  protected renderContent(): JSX.Element {
    const model = this.model;
    const graph = model.graph;
    return (
      <div className="jp-mlops-lineage-tab">
        <div className="jp-mlops-runs-toolbar">
          <HTMLSelect
            aria-label="Direction"
            value={model.direction}
            onChange={e =>
              void model.show(model.node, e.target.value as Direction)
            }
            options={[
              { value: 'both', label: this.context.trans.__('both ways') },
              { value: 'up', label: this.context.trans.__('what produced it') },
              { value: 'down', label: this.context.trans.__('what used it') }
            ]}
          />
          {model.node && (
            <Btn
              label={this.context.trans.__('Graph')}
              title={this.context.trans.__(
                'Open the lineage graph in the main area'
              )}
              className="jp-mlops-open-graph"
              onClick={this.openGraph}
            />
          )}
          {model.node && (
            <Btn
              label={this.context.trans.__('Start over')}
              title={this.context.trans.__('Pick another starting point')}
              onClick={() => void model.show('')}
            />
          )}
        </div>
        <ErrorLine text={model.error} />
        {!model.node && this._renderStarts()}
        {graph && (
          <ul className="jp-mlops-lineage-nodes" aria-label="Lineage nodes">
            {graph.nodes.map(node => (
              <li
                key={node.id}
                className={
                  `jp-mlops-lineage-node jp-mlops-kind-${node.kind}` +
                  (node.id === graph.focus ? ' jp-mod-focus' : '')
                }
                data-node={node.id}
                tabIndex={0}
                role="button"
                title={`${COLUMN_TITLES[node.kind] ?? node.kind}: ${node.id}\n${node.detail}`}
                onClick={() => void model.show(refOf(node))}
                onKeyDown={e => {
                  if (e.key === 'Enter') {
                    void model.show(refOf(node));
                  }
                }}
              >
                <span className="jp-mlops-lineage-kind">
                  {KIND_LABELS[node.kind] ?? node.kind}
                </span>
                <span className="jp-mlops-lineage-label">{node.label}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
    );
  }

  private _renderStarts(): JSX.Element {
    const starts = this.model.starts;
    if (starts.length === 0) {
      return (
        <Empty>
          {this.context.trans.__(
            'Nothing to trace yet: track a run or register a model first.'
          )}
        </Empty>
      );
    }
    return (
      <>
        <div className="jp-mlops-detail-meta">
          {this.context.trans.__('Start from:')}
        </div>
        <ul className="jp-mlops-lineage-starts" aria-label="Start from">
          {starts.map(start => (
            <li
              key={start.ref}
              className={`jp-mlops-lineage-node jp-mlops-kind-${start.kind}`}
              tabIndex={0}
              role="button"
              title={start.ref}
              onClick={() => this.context.showLineage(start.ref)}
              onKeyDown={e => {
                if (e.key === 'Enter') {
                  this.context.showLineage(start.ref);
                }
              }}
            >
              <span className="jp-mlops-lineage-kind">
                {start.kind === 'run' ? 'run' : 'version'}
              </span>
              <span className="jp-mlops-lineage-label">{start.label}</span>
            </li>
          ))}
        </ul>
      </>
    );
  }
}
