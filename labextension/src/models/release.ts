/**
 * ReleaseModel: registered models, the versions of the selected one, the selected version's
 * gates and card, and the release actions (validate, promote, roll back).
 *
 * A validation runs on the server as a job; the model follows it (faster polling while it runs)
 * and refreshes the versions when it ends.
 */
import { requestAPI } from '../request';
import { PolledModel } from '../model';
import {
  IJob,
  IJobResponse,
  IModelSummary,
  IReleaseEvent,
  IRolloutState,
  IValidationVerdict,
  IVersionDetail,
  IVersionsResponse
} from '../tokens';

/** Where a version can be promoted to. */
export type PromotionTarget = 'staging' | 'canary' | 'champion';

export interface IPromotion {
  version: string;
  to: PromotionTarget;
  reason: string;
  weight?: number;
  force?: boolean;
}

const FINISHED = ['succeeded', 'failed', 'cancelled'];

function path(...parts: string[]): string {
  return parts.map(encodeURIComponent).join('/');
}

export class ReleaseModel extends PolledModel {
  constructor(options: PolledModel.IOptions = {}) {
    super({ name: 'jupyter-mlops:models', ...options });
    this._jobInterval = Math.max(200, (options.interval ?? 10000) / 20);
  }

  get models(): ReadonlyArray<IModelSummary> {
    return this._models;
  }

  get selectedModel(): string | null {
    return this._model;
  }

  get versions(): IVersionsResponse | null {
    return this._versions;
  }

  get selectedVersion(): string | null {
    return this._version;
  }

  get detail(): IVersionDetail | null {
    return this._detail;
  }

  get history(): ReadonlyArray<IReleaseEvent> {
    return this._history;
  }

  /** The validation job followed (the last one started here), if any. */
  get validation(): IJob | null {
    return this._job;
  }

  /** The message of the last action (success or failure), for the status line. */
  get message(): { text: string; error: boolean } | null {
    return this._message;
  }

  async selectModel(name: string | null): Promise<void> {
    this._model = name;
    this._version = null;
    this._detail = null;
    this._versions = null;
    this._history = [];
    this.emitChanged();
    await this.refresh();
  }

  async selectVersion(version: string | null): Promise<void> {
    this._version = version;
    this._detail = null;
    this.emitChanged();
    await this._fetchDetail();
    this.emitChanged();
  }

  /** Start the gates of `version`; resolves when the job has finished. */
  async validate(version: string, reason: string): Promise<IJob> {
    const model = this._requireModel();
    const started = await this._act(() =>
      requestAPI<IJobResponse>(
        path('models', model, 'versions', version, 'validations'),
        { method: 'POST', body: JSON.stringify({ reason }) }
      )
    );
    let job = started.job;
    this._job = job;
    this.emitChanged();
    while (!FINISHED.includes(job.status) && !this.isDisposed) {
      await new Promise(resolve => setTimeout(resolve, this._jobInterval));
      job = (
        await requestAPI<IJobResponse>(
          path('models', model, 'versions', version, 'validations', job.id)
        )
      ).job;
      this._job = job;
      this.emitChanged();
    }
    const verdict = job.result as IValidationVerdict | null; // a validation job's result
    this._message =
      job.status === 'succeeded'
        ? {
            text: `${model} v${version}: gates ${verdict?.passed ? 'passed' : 'FAILED'}`,
            error: !verdict?.passed
          }
        : { text: job.error?.error ?? `validation ${job.status}`, error: true };
    await this.refresh();
    return job;
  }

  /** Move an alias to `version` (the server checks the gates and records the reason). */
  async promote(promotion: IPromotion): Promise<IRolloutState> {
    const model = this._requireModel();
    const state = await this._act(() =>
      requestAPI<IRolloutState>(
        path('models', model, 'aliases', promotion.to),
        {
          method: 'PUT',
          body: JSON.stringify({
            version: promotion.version,
            reason: promotion.reason,
            weight: promotion.weight ?? null,
            force: promotion.force ?? false
          })
        }
      )
    );
    this._message = {
      text: `${model} v${promotion.version} is now ${promotion.to}`,
      error: false
    };
    await this.refresh();
    return state;
  }

  /** Undo the last step: drop the canary, else restore the previous champion. */
  async rollback(reason: string): Promise<IRolloutState> {
    const model = this._requireModel();
    const state = await this._act(() =>
      requestAPI<IRolloutState>(path('models', model, 'rollbacks'), {
        method: 'POST',
        body: JSON.stringify({ reason })
      })
    );
    this._message = { text: `${model} rolled back`, error: false };
    await this.refresh();
    return state;
  }

  protected async fetch(): Promise<void> {
    const listed = await requestAPI<{ models: IModelSummary[] }>('models');
    this._models = listed.models ?? [];
    if (this._model === null && this._models.length > 0) {
      this._model = this._models[0].name;
    }
    if (this._model !== null) {
      const [versions, history] = await Promise.all([
        requestAPI<IVersionsResponse>(path('models', this._model, 'versions')),
        requestAPI<{ events: IReleaseEvent[] }>(
          path('models', this._model, 'history')
        )
      ]);
      this._versions = versions;
      this._history = history.events ?? [];
      if (this._version === null && versions.versions.length > 0) {
        this._version = versions.versions[0].version;
      }
      await this._fetchDetail();
    }
  }

  private async _fetchDetail(): Promise<void> {
    if (this._model === null || this._version === null) {
      this._detail = null;
      return;
    }
    this._detail = await requestAPI<IVersionDetail>(
      path('models', this._model, 'versions', this._version)
    );
  }

  private _requireModel(): string {
    if (this._model === null) {
      throw new Error('no model selected');
    }
    return this._model;
  }

  /** Run an action; its error becomes the status message and is rethrown. */
  private async _act<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      this._message = { text: String(error), error: true };
      this.emitChanged();
      throw error;
    }
  }

  private _jobInterval: number;
  private _models: IModelSummary[] = [];
  private _model: string | null = null;
  private _versions: IVersionsResponse | null = null;
  private _version: string | null = null;
  private _detail: IVersionDetail | null = null;
  private _history: IReleaseEvent[] = [];
  private _job: IJob | null = null;
  private _message: { text: string; error: boolean } | null = null;
}
