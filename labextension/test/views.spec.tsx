/**
 * The pure views, rendered with @testing-library/react: what a user sees and what each click or
 * key does. No JupyterLab module is loaded; the views take data and callbacks only.
 */
import { fireEvent, render, screen, within } from '@testing-library/react';
import * as React from 'react';

import { BarChart, LineChart } from '../src/components/charts';
import { keyMetric } from '../src/components/format';
import { RunList } from '../src/components/RunList';
import { LineageGraph, refOf } from '../src/main/LineageGraph';
import {
  driftSeries,
  healthSeries,
  MonitorReportView,
  qualitySeries
} from '../src/main/MonitorReport';
import { ComparisonView, RunDetailView } from '../src/main/RunDetail';
import { VersionDetailView } from '../src/main/VersionDetail';
import { pickCellRun, withTrackMagic } from '../src/cells';
import {
  IComparison,
  ILineageGraph,
  IMonitorReport,
  IRunDetail,
  IRunSummary,
  IVersionDetail
} from '../src/tokens';

const run = (
  id: string,
  metrics: Record<string, number>,
  status = 'FINISHED'
): IRunSummary => ({
  run_id: id,
  name: `run-${id}`,
  experiment_id: '1',
  status,
  start_time: 1,
  end_time: 2,
  kind: 'cell',
  params: {},
  metrics,
  tags: {}
});

describe('RunList', () => {
  const runs = [
    run('a', { accuracy: 0.91234, 'drift.ks.age': 0.1 }),
    run('b', { accuracy: 0.5 }, 'FAILED')
  ];

  it('shows one line a run: status mark, name and the key metric', () => {
    render(
      <RunList
        runs={runs}
        metric="accuracy"
        selected={new Set()}
        onToggle={jest.fn()}
        onOpen={jest.fn()}
      />
    );
    const items = screen.getAllByRole('option');
    expect(items).toHaveLength(2);
    expect(within(items[0]).getByRole('img').getAttribute('aria-label')).toBe(
      'finished'
    );
    expect(within(items[1]).getByRole('img').getAttribute('aria-label')).toBe(
      'failed'
    );
    expect(items[0].textContent).toContain('run-a');
    expect(items[0].querySelector('.jp-mlops-metric-value')?.textContent).toBe(
      '0.9123'
    );
  });

  it('opens on click and Enter, selects on Space, moves with the arrows', () => {
    const onOpen = jest.fn();
    const onToggle = jest.fn();
    render(
      <RunList
        runs={runs}
        metric="accuracy"
        selected={new Set(['b'])}
        onToggle={onToggle}
        onOpen={onOpen}
      />
    );
    const items = screen.getAllByRole('option');
    expect(items[1].getAttribute('aria-selected')).toBe('true');
    fireEvent.click(screen.getByText('run-a'));
    expect(onOpen).toHaveBeenLastCalledWith('a');
    fireEvent.keyDown(items[1], { key: 'Enter' });
    expect(onOpen).toHaveBeenLastCalledWith('b');
    fireEvent.keyDown(items[0], { key: ' ' });
    expect(onToggle).toHaveBeenLastCalledWith('a');
    items[0].focus();
    fireEvent.keyDown(items[0], { key: 'ArrowDown' });
    expect(document.activeElement).toBe(items[1]);
  });

  it('picks the key metric: a preferred one, else the most logged plain name', () => {
    const many = [
      run('a', { loss: 1, 'drift.psi.x': 1, zeta: 1 }),
      run('b', { loss: 2, 'drift.psi.x': 1 }),
      run('c', { 'drift.psi.x': 1 })
    ];
    expect(keyMetric(many)).toBe('loss');
    expect(keyMetric(many, ['nope', 'zeta'])).toBe('zeta');
    expect(keyMetric([])).toBeNull();
  });
});

describe('charts', () => {
  it('draws one polyline a series, scaled into the frame', () => {
    const { container } = render(
      <LineChart
        title="accuracy"
        series={[
          {
            name: 'accuracy',
            points: [
              [0, 0.5],
              [1, 0.7],
              [2, 0.9]
            ]
          },
          { name: 'loss', points: [[0, 2]] }
        ]}
      />
    );
    const lines = container.querySelectorAll('polyline');
    expect(lines).toHaveLength(2);
    const points = lines[0]
      .getAttribute('points')!
      .split(' ')
      .map(p => p.split(',').map(Number));
    expect(points).toHaveLength(3);
    expect(points[0][0]).toBeLessThan(points[2][0]); // steps go right
    expect(points[0][1]).toBeGreaterThan(points[2][1]); // higher values go up
    expect(container.querySelectorAll('circle')).toHaveLength(1);
    expect(screen.getByText('loss')).toBeTruthy(); // the legend
  });

  it('sizes bars by value and shows a dash for a missing one', () => {
    const { container } = render(
      <BarChart
        title="accuracy"
        bars={[
          { label: 'a', value: 0.8 },
          { label: 'b', value: 0.4 },
          { label: 'c', value: null }
        ]}
      />
    );
    const widths = Array.from(
      container.querySelectorAll<HTMLElement>('.jp-mlops-bar')
    ).map(b => b.style.width);
    expect(widths).toEqual(['100.0%', '50.0%', '0.0%']);
    expect(screen.getByText('-')).toBeTruthy();
  });
});

const detail: IRunDetail = {
  ...run('r1', { accuracy: 0.9, f1: 0.8 }),
  params: { C: '1' },
  curves: {
    accuracy: [
      [0, 0.5],
      [1, 0.9]
    ],
    f1: [[0, 0.8]]
  },
  models: [{ model_id: 'm-1', uri: 'models:/m-1', name: 'model' }],
  datasets: [],
  environment: null,
  cell_source: 'fit()',
  notebook_path: 'train.ipynb'
};

describe('RunDetailView and ComparisonView', () => {
  it('draws a curve for each metric logged at several steps, and wires its actions', () => {
    const actions = {
      onRegister: jest.fn(),
      onOpenNotebook: jest.fn(),
      onLineage: jest.fn()
    };
    const { container } = render(
      <RunDetailView detail={detail} {...actions} />
    );
    expect(container.querySelectorAll('.jp-mlops-line-chart')).toHaveLength(1);
    expect(screen.getByText('fit()')).toBeTruthy();
    fireEvent.click(screen.getByText('Register model'));
    fireEvent.click(screen.getByText('Open notebook'));
    fireEvent.click(screen.getByText('Lineage'));
    expect(actions.onRegister).toHaveBeenCalled();
    expect(actions.onOpenNotebook).toHaveBeenCalledWith('train.ipynb');
    expect(actions.onLineage).toHaveBeenCalled();
  });

  it('compares runs with a bar chart per numeric metric', () => {
    const comparison: IComparison = {
      runs: [
        { run_id: 'aaaaaaaaaa', name: 'first', status: 'FINISHED' },
        { run_id: 'bbbbbbbbbb', name: null, status: 'FINISHED' }
      ],
      metrics: [{ key: 'accuracy', values: [0.9, 0.8], differs: true }],
      params: [{ key: 'C', values: ['1', '2'], differs: true }],
      environment: [],
      cell_diff: null,
      code_diff: null
    };
    const { container } = render(<ComparisonView comparison={comparison} />);
    expect(container.querySelectorAll('.jp-mlops-bar')).toHaveLength(2);
    expect(screen.getAllByText('bbbbbbbb').length).toBeGreaterThan(0);
  });
});

describe('VersionDetailView', () => {
  const version: IVersionDetail = {
    name: 'churn',
    version: '2',
    run_id: 'r1',
    status: 'READY',
    created: 1,
    aliases: ['champion'],
    gates: 'passed',
    rolled_back: false,
    registered_by: null,
    metrics: {},
    gate_run_id: null,
    gate_results: [
      {
        gate: 'metrics.accuracy',
        kind: null,
        passed: false,
        value: 0.5,
        threshold: 0.6,
        reason: 'too low'
      }
    ],
    evaluation: null,
    champion: null,
    card: '# Card',
    lineage: null,
    source_model_id: null,
    canary_weight: null
  };

  it('shows each gate, the card slot, and offers no promotion of the champion', () => {
    const onAction = jest.fn();
    render(
      <VersionDetailView
        detail={version}
        busy={false}
        message={{ text: 'churn v2: gates FAILED', error: true }}
        canaryNote={null}
        onAction={onAction}
        card={<div data-testid="card">rendered</div>}
      />
    );
    expect(screen.getByText('FAIL')).toBeTruthy();
    expect(screen.getByTestId('card')).toBeTruthy();
    expect(screen.getByRole('status').className).toBe('jp-mlops-error');
    const champion = screen.getByText(
      'Promote to champion'
    ) as HTMLButtonElement;
    expect(champion.disabled).toBe(true);
    fireEvent.click(screen.getByText('Roll back'));
    fireEvent.click(screen.getByText('Validate'));
    expect(onAction.mock.calls.map(c => c[0])).toEqual([
      'rollback',
      'validate'
    ]);
  });
});

describe('LineageGraph', () => {
  const graph: ILineageGraph = {
    focus: 'run:r1',
    nodes: [
      { id: 'dataset:d@1', kind: 'dataset', label: 'd v1', detail: 'rows 10' },
      { id: 'run:r1', kind: 'run', label: 'train', detail: 'FINISHED' },
      {
        id: 'model_version:churn@2',
        kind: 'model_version',
        label: 'churn v2',
        detail: ''
      }
    ],
    edges: [
      { from: 'dataset:d@1', to: 'run:r1', relation: 'input' },
      { from: 'run:r1', to: 'model_version:churn@2', relation: 'registered' }
    ]
  };

  it('draws a box a node and a curve an edge; a click focuses, on the focus opens', () => {
    const onFocus = jest.fn();
    const onOpen = jest.fn();
    const { container } = render(
      <LineageGraph graph={graph} onFocus={onFocus} onOpen={onOpen} />
    );
    expect(container.querySelectorAll('rect')).toHaveLength(3);
    expect(container.querySelectorAll('path')).toHaveLength(2);
    const nodes = screen.getAllByRole('button');
    fireEvent.click(nodes[0]);
    expect(onFocus).toHaveBeenCalledWith(graph.nodes[0]);
    fireEvent.keyDown(nodes[1], { key: 'Enter' });
    expect(onOpen).toHaveBeenCalledWith(graph.nodes[1]);
  });

  it('turns each node back into the reference the route accepts', () => {
    expect(graph.nodes.map(refOf)).toEqual([
      'dataset:d@1',
      'r1',
      'models:/churn/2'
    ]);
  });
});

describe('MonitorReportView', () => {
  const report: IMonitorReport = {
    model: 'churn',
    since: 0,
    until: 3600,
    aliases: { champion: '1' },
    reference_version: '1',
    reference: 'train',
    live_rows: 30,
    health: { '1': { requests: 30, error_rate: 0, latency_p95_ms: 2 } },
    drift: {
      age: {
        feature: 'age',
        kind: 'numeric',
        n_ref: 100,
        n_live: 30,
        psi: 0.3,
        ks: 0.2,
        ks_pvalue: 0.01,
        chi2: null,
        chi2_pvalue: null,
        missing_rate_ref: 0,
        missing_rate_live: 0,
        unseen_rate: 0,
        unseen_values: [],
        drifted: true,
        reasons: ['psi 0.30 > 0.2'],
        note: null
      }
    },
    drifted: ['age'],
    prediction_drift: null,
    canary: null,
    quality: {
      task: 'classification',
      labels: 25,
      predictions: 30,
      labeled: 20,
      coverage: 20 / 30,
      by_version: {
        '1': { labeled: 20, metrics: { accuracy: 0.85, auc: 0.9 } }
      },
      over_time: [
        {
          bucket_start: 0,
          version: '1',
          labeled: 8,
          metrics: { accuracy: 0.9 }
        },
        {
          bucket_start: 600,
          version: '1',
          labeled: 12,
          metrics: { accuracy: 0.8 }
        }
      ]
    },
    health_over_time: [
      { version: '1', bucket_start: 0, requests: 10, latency_p95_ms: 2 },
      { version: '1', bucket_start: 600, requests: 20, latency_p95_ms: 3 },
      { version: 'all', bucket_start: 600, requests: 20, latency_p95_ms: 3 }
    ],
    drift_over_time: [
      { bucket_start: 0, rows: 10, psi: { age: 0.01 } },
      { bucket_start: 600, rows: 20, psi: { age: 0.4 } }
    ],
    problems: [],
    alerts: ['input drift in age'],
    run_id: null
  };

  it('charts health per version and drift per feature over time', () => {
    expect(healthSeries(report, 'requests')).toEqual([
      {
        name: 'v1',
        points: [
          [0, 10],
          [600, 20]
        ]
      },
      { name: 'all', points: [[600, 20]] }
    ]);
    expect(driftSeries(report)[0].points).toEqual([
      [0, 0.01],
      [600, 0.4]
    ]);
    const { container } = render(<MonitorReportView report={report} />);
    expect(screen.getByRole('alert').textContent).toContain('age');
    // requests, p95, drift and accuracy have data; the error rate has none in the buckets
    expect(container.querySelectorAll('.jp-mlops-line-chart')).toHaveLength(4);
  });

  it('shows quality from late labels per version and over time', () => {
    expect(qualitySeries(report.quality, 'accuracy')).toEqual([
      {
        name: 'v1',
        points: [
          [0, 0.9],
          [600, 0.8]
        ]
      }
    ]);
    const { container } = render(<MonitorReportView report={report} />);
    const table = container.querySelector('.jp-mlops-quality-table');
    expect(table?.textContent).toContain('accuracy');
    expect(table?.textContent).toContain('0.85');
    expect(container.textContent).toContain(
      '20 of 30 predictions labeled (66.7%)'
    );
    const noLabels = { ...report, quality: null };
    const bare = render(<MonitorReportView report={noLabels} />).container;
    expect(bare.querySelector('.jp-mlops-quality')).toBeNull();
  });
});

describe('Track this cell', () => {
  it('puts the magic on top once', () => {
    expect(withTrackMagic('fit()')).toBe('%%mlops track\nfit()');
    expect(withTrackMagic('')).toBe('%%mlops track\n');
    expect(withTrackMagic('%%mlops track\nfit()')).toBe('%%mlops track\nfit()');
  });
});

describe('Open Run of This Cell', () => {
  it('picks the run recorded at the cell’s execution, else one ahead', () => {
    const at = (id: string, count: string) => ({
      id,
      tags: { 'mlops.execution_count': count }
    });
    const runs = [at('new', '7'), at('old', '4'), at('older', '3')];
    expect(pickCellRun(runs, 4)?.id).toBe('old');
    expect(pickCellRun(runs, 6)?.id).toBe('new');
    expect(pickCellRun(runs, 9)).toBeNull();
  });
});
