/**
 * What the Loop tab shows: who runs the loop, the approvals waiting (each with its gates and the
 * comparison with the champion, Approve / Reject with a comment), the triggers with their next
 * firing, and the cycles as a timeline. Built for the sidebar's default width. Pure: no
 * JupyterLab import (LoopView.tsx puts it in the sidebar).
 */
import * as React from 'react';

import {
  Decision,
  ILoopState,
  ILoopTrigger,
  IPendingApproval
} from '../tokens';
import { Btn } from './buttons';
import { CycleTimeline } from './CycleTimeline';
import { formatWhen } from './format';
import { ChampionComparison, CompactGates } from './GateTable';

export function ApprovalCard(props: {
  approval: IPendingApproval;
  busy: boolean;
  onDecide: (decision: Decision, comment: string) => void;
  onOpen: () => void;
}): JSX.Element {
  const [comment, setComment] = React.useState('');
  const a = props.approval;
  const who = a.approvers.length > 0 ? a.approvers.join(' or ') : 'anyone';
  return (
    <section
      className="jp-mlops-approval"
      data-version={a.version}
      aria-label={`approval of ${a.model} v${a.version} for ${a.alias}`}
    >
      <header className="jp-mlops-approval-head">
        <button type="button" className="jp-mlops-link" onClick={props.onOpen}>
          {`${a.model} v${a.version}`}
        </button>
        <span className="jp-mlops-approval-target">{`→ ${a.alias}`}</span>
      </header>
      <div className="jp-mlops-detail-meta">
        {`asked by ${a.requested_by ?? '?'} ${formatWhen(a.requested_at)}; ` +
          `${who} decides` +
          (a.not_self && a.registered_by
            ? ` (not ${a.registered_by}, who registered it)`
            : '')}
      </div>
      <CompactGates results={a.gate_results} />
      <ChampionComparison
        version={a.version}
        metrics={a.metrics}
        champion={a.champion}
      />
      <textarea
        className="jp-mlops-approval-comment"
        aria-label="comment"
        placeholder="Comment (kept in the release history)"
        rows={2}
        value={comment}
        onChange={e => setComment(e.target.value)}
      />
      <div className="jp-mlops-actions">
        <Btn
          label="Approve"
          accept
          className="jp-mlops-approve"
          disabled={props.busy}
          onClick={() => props.onDecide('approve', comment)}
        />
        <Btn
          label="Reject"
          className="jp-mlops-reject"
          disabled={props.busy}
          onClick={() => props.onDecide('reject', comment)}
        />
      </div>
    </section>
  );
}

export function TriggerList({
  triggers
}: {
  triggers: ReadonlyArray<ILoopTrigger>;
}): JSX.Element {
  if (triggers.length === 0) {
    return (
      <div className="jp-mlops-detail-meta">
        No trigger declared (loop.triggers in mlops.yaml): cycles start by hand.
      </div>
    );
  }
  return (
    <ul className="jp-mlops-triggers" aria-label="triggers">
      {triggers.map(t => {
        const facts = [
          t.next_firing !== null ? `next ${formatWhen(t.next_firing)}` : '',
          t.value !== null ? `now ${t.value.toPrecision(3)}` : '',
          t.holding_since !== null
            ? `holding since ${formatWhen(t.holding_since)}`
            : '',
          t.last_fired !== null ? `fired ${formatWhen(t.last_fired)}` : ''
        ].filter(Boolean);
        return (
          <li key={t.name} className="jp-mlops-trigger" data-trigger={t.name}>
            <span className="jp-mlops-trigger-name">{t.name}</span>
            <span className="jp-mlops-trigger-kind">{t.kind}</span>
            <div className="jp-mlops-trigger-what" title={t.description}>
              {t.description}
            </div>
            {facts.length > 0 && (
              <div className="jp-mlops-detail-meta">{facts.join(' · ')}</div>
            )}
            {t.error && <div className="jp-mlops-problem">{t.error}</div>}
          </li>
        );
      })}
    </ul>
  );
}

/** The whole tab from the loop's state, with callbacks for what a person does. */
export function LoopPanel(props: {
  state: ILoopState;
  busy: boolean;
  message: { text: string; error: boolean } | null;
  onDecide: (a: IPendingApproval, decision: Decision, comment: string) => void;
  onRunNow: () => void;
  onOpenVersion: (version: string) => void;
}): JSX.Element {
  const { state } = props;
  return (
    <div className="jp-mlops-loop-tab">
      <div className="jp-mlops-loop-leader">
        <div className="jp-mlops-loop-who">
          <span className="jp-mlops-loop-model">{state.model}</span>
          <span className={state.leader ? 'jp-mlops-live' : 'jp-mlops-idle'}>
            {state.leader
              ? `led by ${state.leader}` +
                (state.hosted ? ' (this server)' : '')
              : 'no loop process runs'}
          </span>
        </div>
        <Btn
          label="Run now"
          className="jp-mlops-run-now"
          disabled={!state.leader || props.busy}
          title={
            state.leader
              ? 'Ask the loop for a cycle now'
              : 'Start one with `jupyter-mlops loop serve`'
          }
          onClick={props.onRunNow}
        />
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
      {state.pending.length > 0 && (
        <>
          <h3 className="jp-mlops-loop-heading">Waiting for approval</h3>
          {state.pending.map(a => (
            <ApprovalCard
              key={`${a.version}-${a.alias}`}
              approval={a}
              busy={props.busy}
              onDecide={(d, c) => props.onDecide(a, d, c)}
              onOpen={() => props.onOpenVersion(a.version)}
            />
          ))}
        </>
      )}
      <h3 className="jp-mlops-loop-heading">Triggers</h3>
      <TriggerList triggers={state.triggers} />
      <h3 className="jp-mlops-loop-heading">Cycles</h3>
      <CycleTimeline
        cycles={state.cycles}
        onOpenVersion={props.onOpenVersion}
      />
    </div>
  );
}
