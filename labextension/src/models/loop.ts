/**
 * LoopModel: the release loop of the workspace (`GET loop`): its leader, its triggers, the cycle
 * under way and the recent ones, the approvals waiting; and the two things the Loop view does:
 * decide an approval, and ask the leading loop for a cycle now.
 *
 * It polls faster while a cycle is under way, so stages and the approval request show as they
 * happen.
 */
import { requestAPI } from '../request';
import { PolledModel } from '../model';
import { Decision, IApproval, IFiringRequested, ILoopState } from '../tokens';

function path(...parts: string[]): string {
  return parts.map(encodeURIComponent).join('/');
}

export class LoopModel extends PolledModel {
  constructor(options: PolledModel.IOptions = {}) {
    super({ name: 'jupyter-mlops:loop', ...options });
    this._idle = options.interval ?? 10000;
  }

  get state(): ILoopState | null {
    return this._state;
  }

  /** The message of the last action (success or failure), for the status line. */
  get message(): { text: string; error: boolean } | null {
    return this._message;
  }

  /** A decision under way (the buttons wait for it). */
  get busy(): boolean {
    return this._busy;
  }

  /** Seconds between polls while nothing happens (a cycle under way polls every 2 s). */
  set idleInterval(ms: number) {
    this._idle = ms;
    this._pace();
  }

  /** Approve or reject a version for an alias, with a comment that lands in the audit trail. */
  async decide(
    approval: { model: string; version: string; alias: string },
    decision: Decision,
    comment: string
  ): Promise<IApproval | null> {
    return this._act(async () => {
      const answer = await requestAPI<IApproval>(
        path(
          'models',
          approval.model,
          'versions',
          approval.version,
          'approvals',
          approval.alias
        ),
        {
          method: 'PUT',
          body: JSON.stringify({ decision, comment: comment || null })
        }
      );
      const verb = decision === 'approve' ? 'approved' : 'rejected';
      this._message = {
        text: `${answer.model} v${answer.version} ${verb} for ${answer.alias}`,
        error: false
      };
      return answer;
    });
  }

  /** Ask the leading loop for a cycle now (it takes it at its next round). */
  async runNow(
    trigger: string | null = null
  ): Promise<IFiringRequested | null> {
    return this._act(async () => {
      const answer = await requestAPI<IFiringRequested>('loop/firings', {
        method: 'POST',
        body: JSON.stringify({ trigger })
      });
      this._message = {
        text: `asked ${answer.leader} for a cycle`,
        error: false
      };
      return answer;
    });
  }

  protected async fetch(): Promise<void> {
    this._state = await requestAPI<ILoopState>('loop');
    this._pace();
  }

  private _pace(): void {
    this.pollInterval = this._state?.active ? 2000 : this._idle;
  }

  private async _act<T>(action: () => Promise<T>): Promise<T | null> {
    this._busy = true;
    this.emitChanged();
    try {
      return await action();
    } catch (error) {
      this._message = { text: String(error), error: true };
      return null;
    } finally {
      this._busy = false;
      await this.refresh();
    }
  }

  private _idle: number;
  private _state: ILoopState | null = null;
  private _busy = false;
  private _message: { text: string; error: boolean } | null = null;
}
