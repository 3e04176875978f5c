/**
 * The lineage graph as a picture: columns from source files to registered versions, each node a
 * box, each edge a curve named by its relation. Clicking a node (or Enter on it) makes it the
 * focus; runs and versions also open in their own tab. Pure: no JupyterLab import.
 */
import * as React from 'react';

import { ILineageGraph, ILineageNode } from '../tokens';

export const COLUMNS = ['file', 'dataset', 'run', 'model', 'model_version'];
export const COLUMN_TITLES: Record<string, string> = {
  file: 'source files',
  dataset: 'dataset versions',
  run: 'runs',
  model: 'logged models',
  model_version: 'registered versions'
};

const BOX_W = 170;
const BOX_H = 40;
const GAP_X = 60;
const GAP_Y = 14;
const TOP = 28;

function clip(text: string, chars: number): string {
  return text.length > chars ? text.slice(0, chars - 1) + '…' : text;
}

/** The reference the lineage route accepts for a node of the graph. */
export function refOf(node: ILineageNode): string {
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

export function LineageGraph(props: {
  graph: ILineageGraph;
  onFocus: (node: ILineageNode) => void;
  onOpen?: (node: ILineageNode) => void;
}): JSX.Element {
  const { graph } = props;
  const kinds = [
    ...COLUMNS,
    ...graph.nodes.map(n => n.kind).filter(k => !COLUMNS.includes(k))
  ].filter((k, i, all) => all.indexOf(k) === i);
  const columns = kinds
    .map(kind => graph.nodes.filter(n => n.kind === kind))
    .filter(c => c.length > 0);
  const place = new Map<string, { x: number; y: number }>();
  columns.forEach((nodes, col) =>
    nodes.forEach((node, row) =>
      place.set(node.id, {
        x: col * (BOX_W + GAP_X),
        y: TOP + row * (BOX_H + GAP_Y)
      })
    )
  );
  const rows = Math.max(1, ...columns.map(c => c.length));
  const width = Math.max(1, columns.length) * (BOX_W + GAP_X) - GAP_X;
  const height = TOP + rows * (BOX_H + GAP_Y);
  return (
    <svg
      className="jp-mlops-lineage-graph"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="group"
      aria-label={`lineage of ${graph.focus}`}
    >
      {columns.map((nodes, col) => (
        <text
          key={nodes[0].kind}
          className="jp-mlops-lineage-heading"
          x={col * (BOX_W + GAP_X)}
          y={14}
        >
          {COLUMN_TITLES[nodes[0].kind] ?? nodes[0].kind}
        </text>
      ))}
      {graph.edges.map((edge, i) => {
        const a = place.get(edge.from);
        const b = place.get(edge.to);
        if (!a || !b) {
          return null;
        }
        const [from, to] = a.x <= b.x ? [a, b] : [b, a];
        const x1 = from.x + BOX_W;
        const y1 = from.y + BOX_H / 2;
        const x2 = to.x;
        const y2 = to.y + BOX_H / 2;
        const mid = (x1 + x2) / 2;
        return (
          <path
            key={i}
            className="jp-mlops-lineage-edge"
            d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
          >
            <title>{edge.relation}</title>
          </path>
        );
      })}
      {graph.nodes.map(node => {
        const at = place.get(node.id);
        if (!at) {
          return null;
        }
        const focus = node.id === graph.focus;
        const activate = () =>
          focus && props.onOpen ? props.onOpen(node) : props.onFocus(node);
        return (
          <g
            key={node.id}
            className={
              `jp-mlops-lineage-node jp-mlops-kind-${node.kind}` +
              (focus ? ' jp-mod-focus' : '')
            }
            data-node={node.id}
            transform={`translate(${at.x},${at.y})`}
            tabIndex={0}
            role="button"
            aria-label={`${node.kind} ${node.label}`}
            onClick={activate}
            onKeyDown={e => {
              if (e.key === 'Enter' || e.key === ' ') {
                e.preventDefault();
                activate();
              }
            }}
          >
            <title>{`${node.id}\n${node.detail}`}</title>
            <rect width={BOX_W} height={BOX_H} rx={4} />
            <text x={6} y={16} className="jp-mlops-lineage-label">
              {clip(node.label, 24)}
            </text>
            <text x={6} y={31} className="jp-mlops-lineage-detail">
              {clip(node.detail, 28)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
