/**
 * Lineage tab: the graph around the selected run, dataset version or model version, drawn as
 * columns from source files to registered versions, each edge named. Text only, no markup.
 */
import * as React from 'react';

import { Direction, LineageModel } from '../models/insight';
import { ILineageGraph, ILineageNode } from '../tokens';
import { Empty, ErrorLine, IPanelContext, ModelView } from './common';

const COLUMNS = ['file', 'dataset', 'run', 'model', 'model_version'];
const COLUMN_TITLES: Record<string, string> = {
  file: 'source files',
  dataset: 'dataset versions',
  run: 'runs',
  model: 'logged models',
  model_version: 'registered versions'
};

function Graph({
  graph,
  onFocus
}: {
  graph: ILineageGraph;
  onFocus: (node: ILineageNode) => void;
}): JSX.Element {
  const byId = new Map(graph.nodes.map(n => [n.id, n]));
  const columns = COLUMNS.map(kind =>
    graph.nodes.filter(n => n.kind === kind)
  ).filter(c => c.length > 0);
  return (
    <div className="jp-mlops-lineage">
      <div className="jp-mlops-lineage-columns">
        {columns.map(nodes => (
          <div key={nodes[0].kind} className="jp-mlops-lineage-column">
            <h4>{COLUMN_TITLES[nodes[0].kind] ?? nodes[0].kind}</h4>
            {nodes.map(node => (
              <div
                key={node.id}
                className={
                  `jp-mlops-lineage-node jp-mlops-kind-${node.kind}` +
                  (node.id === graph.focus ? ' jp-mod-focus' : '')
                }
                title={node.id}
                onClick={() => onFocus(node)}
              >
                <div className="jp-mlops-lineage-label">{node.label}</div>
                <div className="jp-mlops-lineage-detail">{node.detail}</div>
              </div>
            ))}
          </div>
        ))}
      </div>
      <ul className="jp-mlops-lineage-edges">
        {graph.edges.map((e, i) => (
          <li key={i}>
            {`${byId.get(e.from)?.label ?? e.from} → ${e.relation} → ${byId.get(e.to)?.label ?? e.to}`}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The reference the lineage route accepts for a node of the graph. */
function refOf(node: ILineageNode): string {
  const [kind, ...rest] = node.id.split(':');
  const ident = rest.join(':');
  switch (kind) {
    case 'run':
      return ident;
    case 'dataset':
      return `dataset:${ident}`;
    case 'model':
      return `model:${ident}`;
    case 'model_version':
      return `models:/${ident.replace('@', '/')}`;
    default:
      return node.id;
  }
}

function Query({ model }: { model: LineageModel }): JSX.Element {
  const [node, setNode] = React.useState(model.node);
  const [direction, setDirection] = React.useState<Direction>(model.direction);
  React.useEffect(() => setNode(model.node), [model.node]);
  return (
    <form
      className="jp-mlops-runs-toolbar"
      onSubmit={e => {
        e.preventDefault();
        void model.show(node, direction);
      }}
    >
      <input
        className="jp-mlops-lineage-input jp-mod-styled"
        placeholder="run id, NAME@VERSION, models:/NAME/1"
        value={node}
        onChange={e => setNode(e.target.value)}
      />
      <select
        value={direction}
        onChange={e => setDirection(e.target.value as Direction)}
      >
        <option value="both">both ways</option>
        <option value="up">what produced it</option>
        <option value="down">what used it</option>
      </select>
      <button type="submit" className="jp-mlops-button">
        Show
      </button>
    </form>
  );
}

export class LineageView extends ModelView<LineageModel> {
  constructor(model: LineageModel, context: IPanelContext) {
    super(model, context);
    this.addClass('jp-mlops-lineage-panel');
  }

  protected renderContent(): JSX.Element {
    const model = this.model;
    return (
      <div className="jp-mlops-lineage-tab">
        <Query model={model} />
        <ErrorLine text={model.error} />
        {model.graph ? (
          <Graph
            graph={model.graph}
            onFocus={node => void model.show(refOf(node))}
          />
        ) : (
          <Empty>
            Choose a run, a dataset version or a model version (or press Lineage
            in the Runs or Models tab).
          </Empty>
        )}
      </div>
    );
  }
}
