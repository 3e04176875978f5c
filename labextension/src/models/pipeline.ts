/**
 * PipelineModel: the steps of mlops.yaml with their cache status, and the build in progress.
 *
 * While a build runs, the model polls its job quickly (progress and each step's log); when it
 * ends, the steps are fetched again so their fresh/stale status follows.
 */
import { requestAPI } from '../request';
import { PolledModel } from '../model';
import { IJob, IJobResponse, IPipeline } from '../tokens';

const ACTIVE = ['queued', 'running', 'cancelling'];

export class PipelineModel extends PolledModel {
  constructor(options: PolledModel.IOptions = {}) {
    super({ name: 'jupyter-mlops:pipeline', ...options });
    this._jobInterval = Math.max(200, (options.interval ?? 10000) / 20);
  }

  get pipeline(): IPipeline | null {
    return this._pipeline;
  }

  /** The build followed: the one running, else the last one started from this panel. */
  get build(): IJob | null {
    return this._build;
  }

  get building(): boolean {
    return this._build !== null && ACTIVE.includes(this._build.status);
  }

  /** Start a build of `steps` (all when empty); follows it until it ends. */
  async startBuild(steps: string[] = [], force = false): Promise<IJob> {
    const started = await requestAPI<IJobResponse>('builds', {
      method: 'POST',
      body: JSON.stringify({ steps, force })
    });
    this._build = started.job;
    this.emitChanged();
    return this.follow();
  }

  /** Cancel the build in progress (its runs are marked KILLED). */
  async cancelBuild(): Promise<void> {
    if (!this._build) {
      return;
    }
    const answer = await requestAPI<IJobResponse>(
      `builds/${encodeURIComponent(this._build.id)}`,
      { method: 'DELETE' }
    );
    this._build = answer.job;
    this.emitChanged();
  }

  /** Poll the build job until it has ended, then refresh the steps. */
  async follow(): Promise<IJob> {
    if (this._following) {
      return this._following;
    }
    this._following = this._follow().finally(() => {
      this._following = null;
    });
    return this._following;
  }

  protected async fetch(): Promise<void> {
    this._pipeline = await requestAPI<IPipeline>('pipeline');
    const running = this._pipeline.build;
    if (running && (!this._build || this._build.id !== running.id)) {
      this._build = running; // started elsewhere (another tab, a colleague)
      void this.follow();
    }
  }

  private async _follow(): Promise<IJob> {
    let job = this._build as IJob;
    while (ACTIVE.includes(job.status) && !this.isDisposed) {
      await new Promise(resolve => setTimeout(resolve, this._jobInterval));
      job = (
        await requestAPI<IJobResponse>(`builds/${encodeURIComponent(job.id)}`)
      ).job;
      this._build = job;
      this.emitChanged();
    }
    await this.refresh();
    return job;
  }

  private _jobInterval: number;
  private _pipeline: IPipeline | null = null;
  private _build: IJob | null = null;
  private _following: Promise<IJob> | null = null;
}
