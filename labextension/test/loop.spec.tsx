/**
 * The Loop view and the gate values, rendered with @testing-library/react: an approval card
 * with its gates and the comparison with the champion, the triggers, the cycles' timeline, and
 * gate values that read as values (a mapping of KPIs as KPIs, not as JSON).
 */
import { fireEvent, render, screen, within } from '@testing-library/react';
import * as React from 'react';

import {
  formatNumber,
  formatWhen,
  gateValueLines
} from '../src/components/format';
import { ChampionComparison } from '../src/components/GateTable';
import { ApprovalCard, LoopPanel } from '../src/components/LoopPanel';
import { GateResults } from '../src/main/VersionDetail';
import { ILoopCycle, ILoopState, IPendingApproval } from '../src/tokens';

const business = {
  net_value_per_100: 2405.5944055944055,
  precision: 0.9433962264150944,
  cases: 143.0
};

describe('gate values', () => {
  it('reads a number rounded and a mapping of figures one line each', () => {
    expect(formatNumber(0.958041958041958)).toBe('0.958');
    expect(formatNumber(2405.5944)).toBe('2,406');
    expect(formatNumber(143)).toBe('143');
    expect(gateValueLines(business)).toEqual([
      'net value per 100 2,406',
      'precision 0.9434',
      'cases 143'
    ]);
    expect(gateValueLines(null)).toEqual(['-']);
    expect(gateValueLines(['a', 'b'])).toEqual(['a, b']);
    expect(gateValueLines('>= 0.9')).toEqual(['>= 0.9']);
  });

  it('says how long ago or how soon', () => {
    const now = 1_800_000_000_000;
    expect(formatWhen(1_800_000_000 - 90, now)).toBe('2 min ago');
    expect(formatWhen(1_800_000_000 + 7200, now)).toBe('in 2 h');
    expect(formatWhen(null, now)).toBe('');
  });

  it('shows the business gate of a version as its KPIs, never as JSON', () => {
    const { container } = render(
      <GateResults
        results={[
          {
            gate: 'business',
            kind: 'business',
            passed: true,
            value: business,
            threshold: 'notebook verdict',
            reason: 'net value 2405.6 per 100 cases'
          }
        ]}
      />
    );
    expect(container.textContent).not.toContain('{');
    expect(screen.getByText('net value per 100 2,406')).toBeTruthy();
    expect(screen.getByText('cases 143')).toBeTruthy();
    expect(container.querySelectorAll('col')).toHaveLength(5);
  });
});

const pending: IPendingApproval = {
  model: 'churn',
  version: '4',
  alias: 'champion',
  state: 'requested',
  requested_by: 'loop-bot',
  requested_at: null,
  request_comment: 'loop cycle 1234: input drift',
  decided_by: null,
  decided_at: null,
  comment: null,
  cycle: 'c1',
  registered_by: 'loop-bot',
  gate_results: [
    {
      gate: 'metrics.accuracy',
      kind: 'technical',
      passed: true,
      value: 0.91,
      threshold: '>= 0.9',
      reason: 'accuracy 0.91 meets >= 0.9'
    },
    {
      gate: 'business',
      kind: 'business',
      passed: false,
      value: business,
      threshold: 'notebook verdict',
      reason: 'too little value'
    }
  ],
  metrics: { accuracy: 0.91, rmse: 0.3 },
  champion: { version: '3', metrics: { accuracy: 0.88, rmse: 0.25 } },
  approvers: ['alice', 'bob'],
  not_self: true
};

describe('ApprovalCard', () => {
  it('shows the gates and the champion, and decides with the comment typed', () => {
    const onDecide = jest.fn();
    const onOpen = jest.fn();
    render(
      <ApprovalCard
        approval={pending}
        busy={false}
        onDecide={onDecide}
        onOpen={onOpen}
      />
    );
    const card = screen.getByRole('region');
    expect(card.textContent).toContain('alice or bob decides');
    expect(card.textContent).toContain('not loop-bot, who registered it');
    const gates = within(card).getAllByRole('row');
    expect(gates[1].textContent).toContain('net value per 100 2,406');
    expect(gates[1].getAttribute('title')).toContain('too little value');
    fireEvent.change(screen.getByLabelText('comment'), {
      target: { value: 'recall holds up' }
    });
    fireEvent.click(screen.getByText('Approve'));
    fireEvent.click(screen.getByText('Reject'));
    expect(onDecide.mock.calls).toEqual([
      ['approve', 'recall holds up'],
      ['reject', 'recall holds up']
    ]);
    fireEvent.click(screen.getByText('churn v4'));
    expect(onOpen).toHaveBeenCalled();
  });

  it('marks which of the candidate’s figures beat the champion’s', () => {
    const { container } = render(
      <ChampionComparison
        version="4"
        metrics={pending.metrics}
        champion={pending.champion}
      />
    );
    const better = container.querySelector(
      "[data-metric='accuracy'] .jp-mlops-better"
    );
    const worse = container.querySelector(
      "[data-metric='rmse'] .jp-mlops-worse"
    );
    expect(better?.textContent).toBe('0.91 ▲');
    expect(worse?.textContent).toBe('0.3 ▼'); // a higher error is worse
  });
});

const cycle = (outcome: string, stages: [string, string][]): ILoopCycle => ({
  run_id: `run-${outcome}`,
  model: 'churn',
  trigger: 'drift',
  reason: 'input drift: age PSI 5.5 > 0.2',
  started: 1,
  ended: null,
  outcome,
  version: '4',
  actor: 'loop-bot',
  build_run: null,
  stages: stages.map(([stage, status]) => ({
    stage,
    status,
    started: 1,
    ended: status === 'done' ? 3 : null,
    note: `${stage} note`,
    detail: {}
  })),
  coalesced: [{ trigger: 'new-data' }],
  plan: {}
});

describe('LoopPanel', () => {
  const state: ILoopState = {
    model: 'churn',
    poll: 30,
    leader: null,
    leader_until: null,
    hosted: false,
    triggers: [
      {
        name: 'nightly',
        kind: 'schedule',
        description: 'cron 0 3 * * * (UTC)',
        next_firing: Date.now() / 1000 + 3600,
        last_fired: null,
        value: null,
        holding_since: null,
        error: null
      },
      {
        name: 'rows',
        kind: 'command',
        description: 'output of `count.sh`',
        next_firing: null,
        last_fired: null,
        value: null,
        holding_since: null,
        error: 'exit code 3'
      }
    ],
    active: null,
    cycles: [
      cycle('waiting', [
        ['build', 'done'],
        ['register', 'done'],
        ['validate', 'done'],
        ['staging', 'done'],
        ['canary', 'done'],
        ['watch', 'done'],
        ['champion', 'waiting']
      ]),
      cycle('stopped', [
        ['build', 'done'],
        ['register', 'done'],
        ['validate', 'stopped']
      ])
    ],
    pending: []
  };

  it('lists triggers, draws each cycle’s stages, and offers Run now only with a leader', () => {
    const onRunNow = jest.fn();
    const { container, rerender } = render(
      <LoopPanel
        state={state}
        busy={false}
        message={null}
        onDecide={jest.fn()}
        onRunNow={onRunNow}
        onOpenVersion={jest.fn()}
      />
    );
    expect(screen.getByText('no loop process runs')).toBeTruthy();
    expect((screen.getByText('Run now') as HTMLButtonElement).disabled).toBe(
      true
    );
    expect(container.textContent).toContain('next in 1 h');
    expect(screen.getByText('exit code 3')).toBeTruthy();
    const strips = container.querySelectorAll('.jp-mlops-stage-strip');
    expect(strips).toHaveLength(2);
    const statuses = (i: number) =>
      Array.from(strips[i].querySelectorAll('li')).map(li =>
        li.className.replace('jp-mlops-stage jp-mlops-stage-', '')
      );
    expect(statuses(0)).toEqual([
      'done',
      'done',
      'done',
      'done',
      'done',
      'done',
      'waiting'
    ]);
    expect(statuses(1)).toEqual([
      'done',
      'done',
      'stopped',
      'todo',
      'todo',
      'todo',
      'todo'
    ]);
    expect(container.querySelector('details')?.open).toBe(true); // under way: open
    expect(container.textContent).toContain('joined: new-data');

    rerender(
      <LoopPanel
        state={{ ...state, leader: 'loop-bot@host:12' }}
        busy={false}
        message={{ text: 'asked loop-bot for a cycle', error: false }}
        onDecide={jest.fn()}
        onRunNow={onRunNow}
        onOpenVersion={jest.fn()}
      />
    );
    fireEvent.click(screen.getByText('Run now'));
    expect(onRunNow).toHaveBeenCalled();
    expect(screen.getByRole('status').textContent).toBe(
      'asked loop-bot for a cycle'
    );
  });
});
