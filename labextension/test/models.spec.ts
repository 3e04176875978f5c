/**
 * The sidebar's models against a scripted server: what they ask for, what they keep, how they
 * follow jobs and how they fail. `requestAPI` is replaced by a fake that answers by route.
 */
import { registerRunModel, RunsModel } from '../src/models/runs';
import { ReleaseModel } from '../src/models/release';
import { PipelineModel } from '../src/models/pipeline';
import { LineageModel } from '../src/models/insight';

import * as request from '../src/request';

jest.mock('../src/request', () => ({ requestAPI: jest.fn() }));
const requestAPI = request.requestAPI as unknown as jest.Mock;

type Handler = (init: RequestInit | undefined, url: string) => any;

/** Answer each request with the first route whose pattern matches "METHOD url". */
function serve(routes: Array<[RegExp, Handler]>): Array<[string, any]> {
  const calls: Array<[string, any]> = [];
  requestAPI.mockImplementation(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    calls.push([
      `${method} ${url}`,
      init?.body ? JSON.parse(String(init.body)) : null
    ]);
    for (const [pattern, handler] of routes) {
      if (pattern.test(`${method} ${url}`)) {
        return handler(init, url);
      }
    }
    throw new Error(`no route for ${method} ${url}`);
  });
  return calls;
}

const run = (id: string, accuracy: number) => ({
  run_id: id,
  name: `run-${id}`,
  experiment_id: '1',
  status: 'FINISHED',
  start_time: 1,
  end_time: 2,
  kind: 'cell',
  params: {},
  metrics: { accuracy },
  tags: {}
});

afterEach(() => requestAPI.mockReset());

describe('RunsModel', () => {
  it('fetches nothing until a view shows it, then one page with its query', async () => {
    const calls = serve([
      [
        /^GET runs\?/,
        () => ({ runs: [run('a', 0.9), run('b', 0.8)], next_page_token: 'T1' })
      ],
      [/^GET experiments$/, () => ({ experiments: [] })]
    ]);
    const model = new RunsModel({ interval: 60000 });
    await new Promise(r => setTimeout(r, 20));
    expect(calls).toHaveLength(0);

    let changes = 0;
    model.changed.connect(() => changes++);
    model.active = true;
    await model.refresh();
    expect(model.runs.map(r => r.run_id)).toEqual(['a', 'b']);
    expect(model.hasNextPage).toBe(true);
    expect(model.metricKeys).toEqual(['accuracy']);
    expect(changes).toBeGreaterThan(0);

    await model.setQuery({
      filter: 'metrics.accuracy > 0.5',
      orderBy: 'metrics.`accuracy` DESC'
    });
    const query = new URLSearchParams(model.queryString());
    expect(query.get('filter')).toBe('metrics.accuracy > 0.5');
    expect(query.get('order_by')).toBe('metrics.`accuracy` DESC');
    expect(query.get('limit')).toBe('100');
    expect(query.get('page_token')).toBeNull();

    await model.nextPage();
    expect(new URLSearchParams(model.queryString()).get('page_token')).toBe(
      'T1'
    );
    expect(model.page).toBe(1);
    await model.previousPage();
    expect(model.page).toBe(0);
    model.dispose();
  });

  it('keeps the error as text and recovers on the next answer', async () => {
    let fail = true;
    serve([
      [
        /^GET runs\?/,
        () => {
          if (fail) {
            throw new Error('the tracking server cannot be reached');
          }
          return { runs: [run('c', 0.5)] };
        }
      ],
      [/^GET experiments$/, () => ({ experiments: [] })]
    ]);
    const model = new RunsModel({ interval: 60000 });
    model.active = true;
    await model.refresh();
    expect(model.error).toContain('cannot be reached');
    expect(model.loading).toBe(false);
    fail = false;
    await model.refresh();
    expect(model.error).toBeNull();
    expect(model.runs).toHaveLength(1);
    model.dispose();
  });

  it('keeps the runs selected for comparison, and registers a model', async () => {
    const calls = serve([
      [/^POST models$/, () => ({ name: 'churn', version: '1' })]
    ]);
    const model = new RunsModel();
    model.toggleSelected('a');
    model.toggleSelected('b');
    model.toggleSelected('a');
    expect([...model.selected]).toEqual(['b']);
    const version = await registerRunModel('a', null, 'best so far');
    expect(version.version).toBe('1');
    expect(calls[0]).toEqual([
      'POST models',
      { run_id: 'a', name: null, reason: 'best so far' }
    ]);
    model.dispose();
  });
});

describe('ReleaseModel', () => {
  const versions = {
    model: 'churn',
    aliases: { candidate: '1' },
    canary_weight: 0,
    shadow: false,
    versions: [{ version: '1', aliases: ['candidate'], gates: 'pending' }]
  };
  const routes = (job: () => any): Array<[RegExp, Handler]> => [
    [/^GET models$/, () => ({ models: [{ name: 'churn', aliases: {} }] })],
    [/^GET models\/churn\/versions$/, () => versions],
    [/^GET models\/churn\/history$/, () => ({ events: [] })],
    [
      /^GET models\/churn\/versions\/1$/,
      () => ({ ...versions.versions[0], gate_results: [] })
    ],
    [
      /^POST models\/churn\/versions\/1\/validations$/,
      () => ({ job: { id: 'j1', status: 'queued' } })
    ],
    [/^GET models\/churn\/versions\/1\/validations\/j1$/, job],
    [
      /^PUT models\/churn\/aliases\/canary$/,
      () => ({ model: 'churn', aliases: { canary: '1' }, canary_weight: 20 })
    ],
    [
      /^POST models\/churn\/rollbacks$/,
      () => ({ model: 'churn', aliases: {}, canary_weight: 0 })
    ]
  ];

  it('selects the first model and version, and follows a validation to its end', async () => {
    let polls = 0;
    const calls = serve(
      routes(() => {
        polls++;
        return polls < 3
          ? { job: { id: 'j1', status: 'running' } }
          : {
              job: { id: 'j1', status: 'succeeded', result: { passed: true } }
            };
      })
    );
    const model = new ReleaseModel({ interval: 4000 });
    model.active = true;
    await model.refresh();
    expect(model.selectedModel).toBe('churn');
    expect(model.selectedVersion).toBe('1');
    expect(model.detail?.version).toBe('1');

    const job = await model.validate('1', 'before canary');
    expect(job.status).toBe('succeeded');
    expect(polls).toBe(3);
    expect(model.message).toEqual({
      text: 'churn v1: gates passed',
      error: false
    });
    expect(calls.find(([c]) => c.startsWith('POST'))?.[1]).toEqual({
      reason: 'before canary'
    });
    model.dispose();
  });

  it('sends the promotion and the rollback with their reasons', async () => {
    const calls = serve(
      routes(() => ({ job: { id: 'j1', status: 'succeeded' } }))
    );
    const model = new ReleaseModel({ interval: 60000 });
    await model.selectModel('churn');
    const state = await model.promote({
      version: '1',
      to: 'canary',
      weight: 20,
      reason: 'try it'
    });
    expect(state.aliases.canary).toBe('1');
    expect(calls.find(([c]) => c.startsWith('PUT'))).toEqual([
      'PUT models/churn/aliases/canary',
      { version: '1', reason: 'try it', weight: 20, force: false }
    ]);
    await model.rollback('errors up');
    expect(
      calls.find(([c]) => c.startsWith('POST models/churn/rollbacks'))?.[1]
    ).toEqual({
      reason: 'errors up'
    });
    expect(model.message?.text).toBe('churn rolled back');
    model.dispose();
  });

  it('shows a refused action as an error message and rethrows it', async () => {
    serve([
      ...routes(() => null),
      [
        /^PUT models\/churn\/aliases\/champion$/,
        () => {
          throw new Error(
            'churn v1 cannot go to champion: its gates are pending'
          );
        }
      ]
    ]);
    const model = new ReleaseModel({ interval: 60000 });
    await model.selectModel('churn');
    await expect(
      model.promote({ version: '1', to: 'champion', reason: 'go' })
    ).rejects.toThrow('gates are pending');
    expect(model.message).toEqual({
      text: 'Error: churn v1 cannot go to champion: its gates are pending',
      error: true
    });
    model.dispose();
  });
});

describe('PipelineModel', () => {
  it('starts a build, follows its progress and refreshes the steps at the end', async () => {
    let polls = 0;
    let fresh = false;
    const calls = serve([
      [
        /^GET pipeline$/,
        () => ({ project: 'p', steps: [{ name: 'train', fresh }], build: null })
      ],
      [
        /^POST builds$/,
        () => ({ job: { id: 'b1', status: 'queued', steps: [] } })
      ],
      [
        /^GET builds\/b1$/,
        () => {
          polls++;
          if (polls >= 2) {
            fresh = true;
            return {
              job: {
                id: 'b1',
                status: 'succeeded',
                steps: [{ name: 'train', status: 'ran' }]
              }
            };
          }
          return {
            job: {
              id: 'b1',
              status: 'running',
              progress: { done: 0, total: 1 },
              steps: []
            }
          };
        }
      ]
    ]);
    const model = new PipelineModel({ interval: 4000 });
    model.active = true;
    await model.refresh();
    expect(model.pipeline?.steps[0].fresh).toBe(false);
    const job = await model.startBuild(['train'], true);
    expect(job.status).toBe('succeeded');
    expect(model.building).toBe(false);
    expect(model.pipeline?.steps[0].fresh).toBe(true);
    expect(calls.find(([c]) => c === 'POST builds')?.[1]).toEqual({
      steps: ['train'],
      force: true
    });
    model.dispose();
  });

  it('cancels the build it follows', async () => {
    const calls = serve([
      [
        /^POST builds$/,
        () => ({ job: { id: 'b2', status: 'running', steps: [] } })
      ],
      [
        /^DELETE builds\/b2$/,
        () => ({ job: { id: 'b2', status: 'cancelling', steps: [] } })
      ],
      [
        /^GET builds\/b2$/,
        () => ({ job: { id: 'b2', status: 'cancelled', steps: [] } })
      ],
      [/^GET pipeline$/, () => ({ project: 'p', steps: [], build: null })]
    ]);
    const model = new PipelineModel({ interval: 4000 });
    const following = model.startBuild();
    await new Promise(r => setTimeout(r, 0));
    await model.cancelBuild();
    expect((await following).status).toBe('cancelled');
    expect(calls.map(([c]) => c)).toContain('DELETE builds/b2');
    model.dispose();
  });
});

describe('LineageModel', () => {
  it('asks for the graph around the node it is shown', async () => {
    const calls = serve([
      [/^GET lineage\?/, () => ({ focus: 'run:a', nodes: [], edges: [] })]
    ]);
    const model = new LineageModel();
    model.active = true;
    await model.show('models:/churn/1', 'up');
    expect(model.graph?.focus).toBe('run:a');
    const url = calls[calls.length - 1][0];
    expect(new URLSearchParams(url.split('?')[1]).get('node')).toBe(
      'models:/churn/1'
    );
    expect(url).toContain('direction=up');
    model.dispose();
  });
});

describe('a model shared by several views', () => {
  it('keeps fetching while any of them shows it', async () => {
    const calls = serve([
      [/^GET lineage\?/, () => ({ focus: 'run:r', nodes: [], edges: [] })],
      [/^GET runs\?/, () => ({ runs: [] })],
      [/^GET models$/, () => ({ models: [] })]
    ]);
    const model = new LineageModel({ interval: 60000 });
    const sidebarTab = {};
    const mainTab = {};
    model.setShownBy(sidebarTab, true);
    model.setShownBy(mainTab, true);
    model.setShownBy(sidebarTab, false); // the user switched sidebar tabs
    expect(model.active).toBe(true);
    await model.show('r');
    expect(calls.some(([c]) => c.startsWith('GET lineage?node=r'))).toBe(true);
    expect(model.graph?.focus).toBe('run:r');
    model.setShownBy(mainTab, false);
    expect(model.active).toBe(false);
    model.dispose();
  });
});

describe('where the lineage starts', () => {
  it('offers the run opened last first, then recent runs and served versions', async () => {
    serve([
      [/^GET runs\?/, () => ({ runs: [run('a', 0.9), run('b', 0.8)] })],
      [
        /^GET models$/,
        () => ({
          models: [
            { name: 'churn', aliases: { champion: '3' } },
            { name: 'idle', aliases: {} }
          ]
        })
      ]
    ]);
    const model = new LineageModel({ interval: 60000 });
    model.active = true;
    await model.refresh();
    expect(model.starts.map(s => s.ref)).toEqual(['models:/churn/3', 'a', 'b']);
    model.select({ ref: 'b', label: 'run-b', kind: 'run' });
    expect(model.starts.map(s => s.ref)).toEqual(['b', 'models:/churn/3', 'a']);
    model.dispose();
  });
});
