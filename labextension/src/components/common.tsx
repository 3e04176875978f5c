/**
 * Pieces every tab shares: a ReactWidget that tells its model when it is shown, formatters, and
 * the error and empty lines.
 *
 * Every value coming from the store (run names, reasons, cards, logs) is rendered as a React
 * text node, never as HTML: a run named `<img onerror=...>` shows those characters.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { IPolledModel, TabName } from '../tokens';

export { formatTime, formatValue } from './format';

/** What a tab may ask of the sidebar around it. */
export interface IPanelContext {
  /** Bring another tab to the front. */
  showTab(name: TabName): void;
  /** Show the lineage around `ref`: its graph in the main area, its nodes in the Lineage tab. */
  showLineage(ref: string): void;
  /** Show a registered model in the Models tab. */
  showModel(name: string): void;
  /** Open a model's monitoring report in the main area. */
  showMonitor(name: string): void;
  /** Open a run in the main area. */
  openRun(runId: string): void;
  /** Open a comparison of runs in the main area. */
  compare(runIds: string[]): void;
  /** Open a model version (its release actions and card) in the main area. */
  openVersion(name: string, version: string): void;
  /** Open a file of the workspace in JupyterLab. */
  openPath(path: string): void;
  /** The panel's strings, translated (ITranslator, domain jupyter_mlops). */
  trans: TranslationBundle;
}

export function ErrorLine({
  text
}: {
  text: string | null;
}): JSX.Element | null {
  if (!text) {
    return null;
  }
  return (
    <div className="jp-mlops-error" role="alert">
      {text}
    </div>
  );
}

export function Empty({
  children
}: {
  children: React.ReactNode;
}): JSX.Element {
  return <div className="jp-mlops-empty">{children}</div>;
}

/**
 * A tab: a ReactWidget re-rendered whenever its model changes, and whose model polls only while
 * the tab is visible.
 */
export abstract class ModelView<M extends IPolledModel> extends ReactWidget {
  constructor(
    protected readonly model: M,
    protected readonly context: IPanelContext
  ) {
    super();
    this.addClass('jp-mlops-tab');
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.model.setShownBy(this, this.isVisible);
  }

  protected onBeforeDetach(msg: Message): void {
    this.model.setShownBy(this, false);
    super.onBeforeDetach(msg);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.setShownBy(this, true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.setShownBy(this, false);
  }

  /** Fetch the tab's data now. */
  refreshModel(): Promise<void> {
    return this.model.refresh();
  }

  render(): JSX.Element {
    return (
      <UseSignal signal={this.model.changed}>
        {() => this.renderContent()}
      </UseSignal>
    );
  }

  protected abstract renderContent(): JSX.Element;
}
