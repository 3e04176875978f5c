/**
 * The loop's cycles as a timeline, newest first: each with its trigger, a strip of its stages
 * (done, waiting, running, stopped, skipped) and what it is doing or how it ended; opened, the
 * note of every stage. Pure: no JupyterLab import.
 */
import * as React from 'react';

import { ICycleStage, ILoopCycle } from '../tokens';
import { StatusMark } from './buttons';
import { formatWhen } from './format';

export const STAGES = [
  'build',
  'register',
  'validate',
  'staging',
  'canary',
  'watch',
  'champion'
];

/** One segment a stage, coloured by its status; the word and note are its tooltip. */
export function StageStrip({
  stages
}: {
  stages: ReadonlyArray<ICycleStage>;
}): JSX.Element {
  const byName = new Map(stages.map(s => [s.stage, s]));
  return (
    <ol className="jp-mlops-stage-strip" aria-label="stages">
      {STAGES.map(name => {
        const stage = byName.get(name);
        const status = stage?.status ?? 'todo';
        const label =
          `${name}: ${status}` + (stage?.note ? ` (${stage.note})` : '');
        return (
          <li
            key={name}
            className={`jp-mlops-stage jp-mlops-stage-${status}`}
            title={label}
            aria-label={label}
            data-stage={name}
          />
        );
      })}
    </ol>
  );
}

function duration(stage: ICycleStage): string {
  if (stage.ended === null) {
    return '';
  }
  const s = Math.max(0, stage.ended - stage.started);
  return s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;
}

function CycleItem(props: {
  cycle: ILoopCycle;
  onOpenVersion: (version: string) => void;
}): JSX.Element {
  const { cycle } = props;
  const last = cycle.stages[cycle.stages.length - 1];
  const active = cycle.outcome === 'running' || cycle.outcome === 'waiting';
  const started = new Date(cycle.started * 1000);
  return (
    <li
      className={`jp-mlops-cycle jp-mlops-cycle-${cycle.outcome}`}
      data-run-id={cycle.run_id}
      data-outcome={cycle.outcome}
    >
      <details open={active}>
        <summary>
          <span className="jp-mlops-cycle-head">
            <StatusMark status={cycle.outcome} />
            <span className="jp-mlops-cycle-title" title={cycle.reason}>
              {cycle.trigger === 'manual' ? 'by hand' : cycle.trigger}
            </span>
            <span
              className="jp-mlops-cycle-when"
              title={started.toLocaleString()}
            >
              {formatWhen(cycle.started)}
            </span>
          </span>
          <StageStrip stages={cycle.stages} />
          <span className="jp-mlops-cycle-note">
            {`${cycle.outcome}` +
              (cycle.version ? ` v${cycle.version}` : '') +
              (last?.note ? `: ${last.note}` : '')}
          </span>
        </summary>
        <div className="jp-mlops-detail-meta jp-mlops-cycle-reason">
          {cycle.reason}
        </div>
        <ol className="jp-mlops-cycle-stages">
          {cycle.stages.map(s => (
            <li key={s.stage} data-stage={s.stage}>
              <StatusMark status={s.status} />
              <span className="jp-mlops-cycle-stage-name">{s.stage}</span>
              <span className="jp-mlops-cycle-stage-note">{s.note}</span>
              <span className="jp-mlops-cycle-stage-time">{duration(s)}</span>
            </li>
          ))}
        </ol>
        {cycle.coalesced.length > 0 && (
          <div className="jp-mlops-detail-meta">
            {`joined: ${cycle.coalesced.map(c => String(c.trigger)).join(', ')}`}
          </div>
        )}
        {cycle.version && (
          <button
            type="button"
            className="jp-mlops-link"
            onClick={() => props.onOpenVersion(cycle.version as string)}
          >
            {`open ${cycle.model} v${cycle.version}`}
          </button>
        )}
      </details>
    </li>
  );
}

export function CycleTimeline(props: {
  cycles: ReadonlyArray<ILoopCycle>;
  onOpenVersion: (version: string) => void;
}): JSX.Element {
  if (props.cycles.length === 0) {
    return (
      <div className="jp-mlops-detail-meta">
        No cycle yet: a trigger starts one, or Run now.
      </div>
    );
  }
  return (
    <ol className="jp-mlops-timeline" aria-label="cycles">
      {props.cycles.map(c => (
        <CycleItem
          key={c.run_id}
          cycle={c}
          onOpenVersion={props.onOpenVersion}
        />
      ))}
    </ol>
  );
}
