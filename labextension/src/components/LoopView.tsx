/** Loop tab: the LoopPanel of LoopPanel.tsx over the loop model, in the sidebar. */
import * as React from 'react';

import { LoopModel } from '../models/loop';
import { Empty, ErrorLine, IPanelContext, ModelView } from './common';
import { LoopPanel } from './LoopPanel';

export class LoopView extends ModelView<LoopModel> {
  constructor(model: LoopModel, context: IPanelContext) {
    super(model, context);
    this.addClass('jp-mlops-loop-panel');
  }

  protected renderContent(): JSX.Element {
    const model = this.model;
    const state = model.state;
    if (!state) {
      return model.loading ? (
        <Empty>{this.context.trans.__('Loading the loop…')}</Empty>
      ) : (
        <ErrorLine text={model.error} />
      );
    }
    return (
      <>
        <ErrorLine text={model.error} />
        <LoopPanel
          state={state}
          busy={model.busy}
          message={model.message}
          onDecide={(a, d, c) => void model.decide(a, d, c)}
          onRunNow={() => void model.runNow()}
          onOpenVersion={v => this.context.openVersion(state.model, v)}
        />
      </>
    );
  }
}
