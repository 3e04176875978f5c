/**
 * Pipeline tab: the steps of mlops.yaml with cache status (fresh or stale, and why), a Build
 * button, live progress and each step's log.
 */
import * as React from 'react';

import { PipelineModel } from '../models/pipeline';
import { IJob } from '../tokens';
import { Btn, StatusMark } from './buttons';
import {
  Empty,
  ErrorLine,
  formatValue,
  IPanelContext,
  ModelView
} from './common';

function BuildProgress({ job }: { job: IJob }): JSX.Element {
  const { done, total } = job.progress;
  const percent = total ? Math.round((100 * done) / total) : null;
  return (
    <div className="jp-mlops-build" data-status={job.status}>
      <div className="jp-mlops-build-title">
        {`${job.title}: ${job.status}` +
          (percent !== null ? ` (${done}/${total})` : '')}
      </div>
      {percent !== null && (
        <progress className="jp-mlops-progress" max={100} value={percent} />
      )}
      {job.error && <ErrorLine text={job.error.error} />}
      {job.steps.map(step => (
        <details
          key={step.name}
          className="jp-mlops-build-step"
          data-step={step.name}
        >
          <summary>
            {`${step.name}: ${step.status}` +
              (step.reason ? ` (${step.reason})` : '')}
          </summary>
          {step.error && (
            <div className="jp-mlops-error">
              {`${step.error.ename ?? 'error'}: ${step.error.evalue ?? ''}`}
            </div>
          )}
          <pre className="jp-mlops-log">{(step.log ?? []).join('\n')}</pre>
        </details>
      ))}
      {(job.log ?? []).length > 0 && (
        <details className="jp-mlops-build-log">
          <summary>Build log</summary>
          <pre className="jp-mlops-log">{(job.log ?? []).join('\n')}</pre>
        </details>
      )}
    </div>
  );
}

export class PipelineView extends ModelView<PipelineModel> {
  constructor(model: PipelineModel, context: IPanelContext) {
    super(model, context);
    this.addClass('jp-mlops-pipeline-panel');
  }

  protected renderContent(): JSX.Element {
    const model = this.model;
    if (model.loading) {
      return <Empty>{this.context.trans.__('Loading the pipeline…')}</Empty>;
    }
    const pipeline = model.pipeline;
    return (
      <div className="jp-mlops-pipeline-tab">
        <ErrorLine text={model.error ?? this._message} />
        <div className="jp-mlops-actions">
          <Btn
            label={this.context.trans.__('Build')}
            className="jp-mlops-build-button"
            accept
            disabled={model.building || !pipeline}
            onClick={() => void this._build(false)}
          />
          <Btn
            label={this.context.trans.__('Force rebuild')}
            disabled={model.building || !pipeline}
            onClick={() => void this._build(true)}
          />
          <Btn
            label={this.context.trans.__('Cancel')}
            className="jp-mlops-cancel-build"
            disabled={!model.building}
            onClick={() => void this._guard(() => model.cancelBuild())}
          />
        </div>
        {pipeline && (
          <ul className="jp-mlops-step-list" aria-label="Pipeline steps">
            {pipeline.steps.map(step => (
              <li
                key={step.name}
                data-step={step.name}
                className="jp-mlops-step"
              >
                <div className="jp-mlops-step-line">
                  <StatusMark status={step.status} />
                  <span className="jp-mlops-step-name" title={step.name}>
                    {step.name + (step.sweep ? ` (${step.sweep} sweep)` : '')}
                  </span>
                  <span
                    className="jp-mlops-metric-value"
                    title={step.key_metric ? step.key_metric[0] : undefined}
                  >
                    {step.key_metric ? formatValue(step.key_metric[1]) : ''}
                  </span>
                </div>
                <div className="jp-mlops-step-meta">
                  <a
                    href="#"
                    className="jp-mlops-step-notebook"
                    title={`open ${step.notebook}`}
                    onClick={e => {
                      e.preventDefault();
                      this.context.openPath(step.notebook);
                    }}
                  >
                    {step.notebook}
                  </a>
                  {!step.fresh && step.reason && (
                    <span className="jp-mlops-step-reason">{step.reason}</span>
                  )}
                </div>
              </li>
            ))}
          </ul>
        )}
        {model.build && <BuildProgress job={model.build} />}
      </div>
    );
  }

  private async _build(force: boolean): Promise<void> {
    await this._guard(async () => {
      await this.model.startBuild([], force);
    });
  }

  private async _guard(action: () => Promise<void>): Promise<void> {
    this._message = null;
    try {
      await action();
    } catch (error) {
      this._message = String(error);
    }
    this.update();
  }

  private _message: string | null = null;
}
