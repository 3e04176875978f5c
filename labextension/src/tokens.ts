/**
 * Interfaces shared by the sidebar's models and views, and the command ids.
 *
 * The shapes of the JSON answered by the server extension under
 * `/jupyter-mlops/api/` are generated from the server's types into contract.ts
 * (scripts/gen_contract.py) and re-exported here, so a change there shows up
 * here as a type error.
 */
import { ISignal } from '@lumino/signaling';

import { IModelVersions, IRunsPage, IRunSummary } from './contract';

export * from './contract';

/** `GET runs`, by the name the sidebar's models use. */
export type IRunsResponse = IRunsPage;

/** `GET models/{name}/versions`, by the name the sidebar's models use. */
export type IVersionsResponse = IModelVersions;

/** What an approver decides. */
export type Decision = 'approve' | 'reject';

/** Command ids, namespaced so they never clash with another extension's. */
export namespace CommandIDs {
  export const openPanel = 'jupyter-mlops:open-panel';
  export const refreshRuns = 'jupyter-mlops:refresh-runs';
  export const showRuns = 'jupyter-mlops:show-runs';
  export const showModels = 'jupyter-mlops:show-models';
  export const showPipeline = 'jupyter-mlops:show-pipeline';
  export const showLineage = 'jupyter-mlops:show-lineage';
  export const showMonitor = 'jupyter-mlops:show-monitor';
  export const showLoop = 'jupyter-mlops:show-loop';
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

/** Id of the sidebar widget (also its key in the layout restorer). */
export const SIDEBAR_ID = 'jp-mlops-sidebar';

/** The tabs of the sidebar, in order. */
export const TAB_NAMES = [
  'runs',
  'models',
  'pipeline',
  'lineage',
  'monitor',
  'loop'
] as const;
export type TabName = (typeof TAB_NAMES)[number];

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
