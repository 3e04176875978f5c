/**
 * Interfaces shared by the sidebar's models and views, and the command ids.
 *
 * The shapes mirror the JSON answered by the server extension under
 * `/jupyter-mlops/api/`, so a change there shows up here as a type error.
 */
import { ISignal } from '@lumino/signaling';

/** Command ids, namespaced so they never clash with another extension's. */
export namespace CommandIDs {
  export const openPanel = 'jupyter-mlops:open-panel';
  export const refreshRuns = 'jupyter-mlops:refresh-runs';
  export const showRuns = 'jupyter-mlops:show-runs';
  export const showModels = 'jupyter-mlops:show-models';
  export const showPipeline = 'jupyter-mlops:show-pipeline';
  export const showLineage = 'jupyter-mlops:show-lineage';
  export const showMonitor = 'jupyter-mlops:show-monitor';
  export const build = 'jupyter-mlops:build';
  export const openRun = 'jupyter-mlops:open-run';
  export const compareRuns = 'jupyter-mlops:compare-runs';
  export const openVersion = 'jupyter-mlops:open-version';
  export const openLineage = 'jupyter-mlops:open-lineage';
  export const openMonitor = 'jupyter-mlops:open-monitor';
  export const trackCell = 'jupyter-mlops:track-cell';
  export const openCellRun = 'jupyter-mlops:open-cell-run';
}

/** Id of the settings plugin (its schema is labextension/schema/plugin.json). */
export const SETTINGS_ID = 'jupyter-mlops:plugin';

/** The user settings of the panel. */
export interface IMlopsSettings {
  /** Seconds between polls of the shown tab. */
  pollInterval: number;
  /** The experiment the Runs tab opens on ('' for all). */
  defaultExperiment: string;
  /** Metric names shown beside each run (the first that a run has is shown). */
  runColumns: string[];
}

export const DEFAULT_SETTINGS: IMlopsSettings = {
  pollInterval: 10,
  defaultExperiment: '',
  runColumns: []
};

/** `GET status`: the store in use and the journal's records. */
export interface IStatus {
  store: { kind: string; uri: string };
  journal: {
    journals: number;
    pending: number;
    failed: number;
    unreadable: number;
  };
}

/** Id of the sidebar widget (also its key in the layout restorer). */
export const SIDEBAR_ID = 'jp-mlops-sidebar';

/** The tabs of the sidebar, in order. */
export const TAB_NAMES = [
  'runs',
  'models',
  'pipeline',
  'lineage',
  'monitor'
] as const;
export type TabName = (typeof TAB_NAMES)[number];

/** One run as `GET runs` returns it. */
export interface IRunSummary {
  run_id: string;
  name: string | null;
  experiment_id: string;
  status: string;
  /** Milliseconds since the epoch, as MLflow stores it. */
  start_time: number | null;
  end_time: number | null;
  kind: string;
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

export interface IRunsResponse {
  runs: IRunSummary[];
  next_page_token?: string | null;
}

export interface IExperiment {
  experiment_id: string;
  name: string;
  internal: boolean;
  default: boolean;
}

/** `GET runs/{id}`: a run in full. */
export interface IRunDetail extends IRunSummary {
  curves: Record<string, Array<[number, number]>>;
  models: Array<{ model_id: string; uri: string; name: string }>;
  datasets: Array<{ name: string; digest: string; context: string | null }>;
  environment: Record<string, any> | null;
  cell_source: string | null;
  notebook_path: string | null;
}

export interface IComparisonRow {
  key: string;
  values: any[];
  differs: boolean;
}

/** `GET comparisons?run=..&run=..` */
export interface IComparison {
  runs: Array<{ run_id: string; name: string | null; status: string }>;
  params: IComparisonRow[];
  metrics: IComparisonRow[];
  environment: IComparisonRow[];
  code_diff: any;
}

/** A registered model as `GET models` lists it. */
export interface IModelSummary {
  name: string;
  aliases: Record<string, string>;
  canary_weight: number;
  shadow: boolean;
  description: string;
  updated: number | null;
}

export interface IModelVersion {
  name: string;
  version: string;
  run_id: string | null;
  status: string;
  created: number | null;
  aliases: string[];
  /** passed | failed | pending */
  gates: string;
  rolled_back: boolean;
  registered_by: string | null;
  metrics: Record<string, string>;
}

export interface IVersionsResponse {
  model: string;
  aliases: Record<string, string>;
  canary_weight: number;
  shadow: boolean;
  versions: IModelVersion[];
}

export interface IGateResult {
  gate: string;
  kind: string | null;
  passed: boolean;
  value: any;
  threshold: any;
  reason: string;
}

/** `GET models/{name}/versions/{v}`: aliases, gate results and model card. */
export interface IVersionDetail extends IModelVersion {
  gate_run_id: string | null;
  gate_results: IGateResult[];
  evaluation: Record<string, any> | null;
  champion: Record<string, any> | null;
  /** The model card in Markdown, rendered through JupyterLab's rendermime. */
  card: string | null;
  lineage: Record<string, any> | null;
  source_model_id: string | null;
  canary_weight: number | null;
}

export interface IReleaseEvent {
  action: string;
  version: string | null;
  actor: string;
  reason: string | null;
  ts: number;
  details: Record<string, any>;
}

/** The alias state answered by promote and rollback. */
export interface IRolloutState {
  model: string;
  aliases: Record<string, string>;
  canary_weight: number;
}

export interface IJobStep {
  name: string;
  status: string;
  log?: string[];
  reason?: string;
  run_id?: string;
  duration?: number;
  error?: Record<string, any>;
}

/** A long-running job (a build or a validation) as the server reports it. */
export interface IJob {
  id: string;
  kind: 'build' | 'validation';
  title: string;
  owner: string | null;
  /** queued | running | cancelling | succeeded | failed | cancelled */
  status: string;
  created: number;
  started: number | null;
  finished: number | null;
  progress: { done: number; total: number | null };
  steps: IJobStep[];
  result: any;
  error: IErrorResponse | null;
  log?: string[];
}

export interface IJobResponse {
  job: IJob;
}

export interface IPipelineStep {
  name: string;
  notebook: string;
  needs: string[];
  sweep: string | null;
  metric: string | null;
  fresh: boolean;
  status: 'fresh' | 'stale';
  reason: string;
  run_id: string | null;
  key_metric: [string, number] | null;
}

export interface IPipeline {
  project: string;
  experiment: string;
  steps: IPipelineStep[];
  build: IJob | null;
}

export interface ILineageNode {
  id: string;
  kind: string;
  label: string;
  detail: string;
}

export interface ILineageGraph {
  focus: string;
  nodes: ILineageNode[];
  edges: Array<{ from: string; to: string; relation: string }>;
}

export interface IHealth {
  [key: string]: any;
}

/** `GET monitor/{model}`: health and drift of the served model. */
export interface IMonitorReport {
  model: string;
  since: number;
  until: number;
  aliases: Record<string, string>;
  reference_version: string | null;
  reference: string;
  live_rows: number;
  health: Record<string, IHealth>;
  drift: Record<string, Record<string, any>>;
  drifted: string[];
  prediction_drift: Record<string, any> | null;
  canary: Record<string, any> | null;
  /** Per time bucket and version: requests, error_rate, latency_p95_ms... */
  health_over_time?: Array<Record<string, any>>;
  /** Per time bucket: PSI of each feature. */
  drift_over_time?: Array<{
    bucket_start: number;
    rows: number;
    psi: Record<string, number>;
  }>;
  problems: string[];
  alerts: string[];
}

/** The JSON body of an error answer: what went wrong and how to fix it. */
export interface IErrorResponse {
  error: string;
  hint?: string | null;
}

/** Something the sidebar keeps fresh by polling. */
export interface IPolledModel {
  /** The last error as one line of text, or null when the last poll succeeded. */
  readonly error: string | null;
  /** True until the first answer (success or error) has arrived. */
  readonly loading: boolean;
  /** Whether a view shows the data; an inactive model stops polling. */
  active: boolean;
  /** Record whether `viewer` shows the data (several views may share a model). */
  setShownBy(viewer: object, shown: boolean): void;
  /** Emitted whenever the data, the error or loading change. */
  readonly changed: ISignal<IPolledModel, void>;
  /** Ask the server now instead of waiting for the next tick. */
  refresh(): Promise<void>;
}

/** Runs of the workspace, one page at a time, filtered and sorted. */
export interface IRunsModel extends IPolledModel {
  readonly runs: ReadonlyArray<IRunSummary>;
}
