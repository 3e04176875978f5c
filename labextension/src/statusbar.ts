/**
 * The status bar item: which store the workspace uses, and how many records wait in (or failed
 * out of) the local journal. Polls `GET status` every 15 s while the page is visible.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { Poll } from '@lumino/polling';
import { Widget } from '@lumino/widgets';

import { requestAPI } from './request';
import { IStatus } from './tokens';

export function statusText(status: IStatus, trans: TranslationBundle): string {
  const parts = [trans.__('MLOps: %1', status.store.kind)];
  if (status.journal.pending > 0) {
    parts.push(trans.__('%1 queued', status.journal.pending));
  }
  if (status.journal.failed > 0) {
    parts.push(trans.__('%1 failed', status.journal.failed));
  }
  return parts.join(' · ');
}

export class MlopsStatus extends Widget {
  constructor(
    private readonly trans: TranslationBundle,
    onClick: () => void
  ) {
    super();
    this.addClass('jp-mlops-status');
    this.node.setAttribute('role', 'button');
    this.node.tabIndex = 0;
    this.node.textContent = trans.__('MLOps');
    this.node.addEventListener('click', onClick);
    this.node.addEventListener('keydown', e => {
      if (e.key === 'Enter') {
        onClick();
      }
    });
    this._poll = new Poll({
      auto: true,
      factory: () => this._fetch(),
      frequency: { interval: 15000, backoff: true, max: 120000 },
      name: 'jupyter-mlops:status',
      standby: 'when-hidden'
    });
  }

  dispose(): void {
    this._poll.dispose();
    super.dispose();
  }

  private async _fetch(): Promise<void> {
    try {
      const status = await requestAPI<IStatus>('status');
      this.node.textContent = statusText(status, this.trans);
      this.node.title = this.trans.__(
        'Store: %1\nJournal: %2 queued, %3 failed (%4 files)',
        status.store.uri,
        status.journal.pending,
        status.journal.failed,
        status.journal.journals
      );
      this.toggleClass('jp-mod-warning', status.journal.failed > 0);
    } catch (error) {
      this.node.textContent = this.trans.__('MLOps: offline');
      this.node.title = String(error);
      throw error;
    }
  }

  private _poll: Poll;
}
