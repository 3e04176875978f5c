/**
 * Interfaces shared by the sidebar's model and views, and the command ids.
 *
 * The shapes mirror the JSON answered by the server extension under
 * `/jupyter-mlops/api/`, so a change there shows up here as a type error.
 */
import { ISignal } from '@lumino/signaling';

/** Command ids, namespaced so they never clash with another extension's. */
export namespace CommandIDs {
  export const openPanel = 'jupyter-mlops:open-panel';
  export const refreshRuns = 'jupyter-mlops:refresh-runs';
}

/** Id of the sidebar widget (also its key in the layout restorer). */
export const SIDEBAR_ID = 'jp-mlops-sidebar';

/** One run as `GET /jupyter-mlops/api/runs` returns it. */
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
}

/** The JSON body of an error answer: what went wrong and how to fix it. */
export interface IErrorResponse {
  error: string;
  hint?: string | null;
}

/** Recent runs of the workspace, kept fresh by polling. */
export interface IRunsModel {
  readonly runs: ReadonlyArray<IRunSummary>;
  /** The last error as one line of text, or null when the last poll succeeded. */
  readonly error: string | null;
  /** True until the first answer (success or error) has arrived. */
  readonly loading: boolean;
  /** Whether a view shows the runs; an inactive model stops polling. */
  active: boolean;
  /** Emitted whenever runs, error or loading change. */
  readonly changed: ISignal<IRunsModel, void>;
  /** Ask the server now instead of waiting for the next tick. */
  refresh(): Promise<void>;
}
