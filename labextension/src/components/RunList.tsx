/**
 * The compact run list of the Runs tab: one line per run (a selection box, a status mark, the
 * name, the key metric), fitting the sidebar's default width. Arrow keys move between runs,
 * Enter opens one, Space selects it for comparison. Pure: no JupyterLab import.
 */
import * as React from 'react';

import { IRunSummary } from '../tokens';
import { StatusMark } from './buttons';
import { formatTime, formatValue } from './format';

export interface IRunListProps {
  runs: ReadonlyArray<IRunSummary>;
  /** The metric shown beside each run (null: none). */
  metric: string | null;
  selected: ReadonlySet<string>;
  onToggle: (runId: string) => void;
  onOpen: (runId: string) => void;
}

function moveFocus(from: HTMLElement, step: number): void {
  const items = Array.from(
    from.parentElement?.querySelectorAll<HTMLElement>('.jp-mlops-run') ?? []
  );
  const next = items[items.indexOf(from) + step];
  next?.focus();
}

function tooltip(run: IRunSummary): string {
  const lines = [
    `${run.name || run.run_id} (${(run.status || '').toLowerCase()})`,
    formatTime(run.start_time),
    ...Object.entries(run.metrics ?? {}).map(
      ([k, v]) => `${k} = ${formatValue(v)}`
    )
  ];
  return lines.filter(Boolean).join('\n');
}

export function RunList(props: IRunListProps): JSX.Element {
  const { metric } = props;
  return (
    <ul className="jp-mlops-run-list" aria-label="Runs" role="listbox">
      {props.runs.map(run => {
        const value = metric !== null ? (run.metrics ?? {})[metric] : undefined;
        const selected = props.selected.has(run.run_id);
        const name = run.name || run.run_id;
        return (
          <li
            key={run.run_id}
            className={'jp-mlops-run' + (selected ? ' jp-mod-selected' : '')}
            data-run-id={run.run_id}
            role="option"
            aria-selected={selected}
            aria-label={name}
            tabIndex={0}
            title={tooltip(run)}
            onKeyDown={e => {
              if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
                e.preventDefault();
                moveFocus(e.currentTarget, e.key === 'ArrowDown' ? 1 : -1);
              } else if (e.key === 'Enter') {
                e.preventDefault();
                props.onOpen(run.run_id);
              } else if (e.key === ' ') {
                e.preventDefault();
                props.onToggle(run.run_id);
              }
            }}
          >
            <input
              type="checkbox"
              className="jp-mlops-run-select"
              aria-label={`select ${name} for comparison`}
              tabIndex={-1}
              checked={selected}
              onChange={() => props.onToggle(run.run_id)}
            />
            <StatusMark status={run.status} />
            <span
              className="jp-mlops-run-name"
              onClick={() => props.onOpen(run.run_id)}
            >
              {name}
            </span>
            <span className="jp-mlops-metric-value" title={metric ?? undefined}>
              {value !== undefined ? formatValue(value) : ''}
            </span>
          </li>
        );
      })}
    </ul>
  );
}
