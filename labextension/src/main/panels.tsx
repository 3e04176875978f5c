/**
 * The main-area tabs: a run, a comparison, a model version, the lineage graph and a monitoring
 * report. Each is a ReactWidget around a pure view of ./; the version tab renders its model card
 * through JupyterLab's rendermime, untrusted (sanitized), since the card quotes store data.
 */
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ErrorLine, IPanelContext, ModelView } from '../components/common';
import { confirmAction } from '../components/confirm';
import { LineageModel, MonitorModel } from '../models/insight';
import { ReleaseModel } from '../models/release';
import { registerRunModel } from '../models/runs';
import { requestAPI } from '../request';
import { IComparison, IRunDetail } from '../tokens';
import { LineageGraph, refOf } from './LineageGraph';
import { MonitorReportView } from './MonitorReport';
import * as actions from './releaseActions';
import { ComparisonView, RunDetailView } from './RunDetail';
import { ReleaseAction, VersionDetailView } from './VersionDetail';

/** A tab that loads one JSON answer once (and on refresh) and renders it. */
abstract class LoadedPanel<T> extends ReactWidget {
  constructor(protected readonly endPoint: string) {
    super();
    this.addClass('jp-mlops-main-panel');
    void this.reload();
  }

  async reload(): Promise<void> {
    try {
      this.data = await requestAPI<T>(this.endPoint);
      this.error = null;
    } catch (error) {
      this.error = String(error);
    }
    this.update();
  }

  render(): JSX.Element {
    if (this.data === null) {
      return (
        <div className="jp-mlops-main-body">
          <ErrorLine text={this.error} />
          {!this.error && <div className="jp-mlops-empty">Loading…</div>}
        </div>
      );
    }
    return this.renderData(this.data);
  }

  protected abstract renderData(data: T): JSX.Element;

  protected data: T | null = null;
  protected error: string | null = null;
}

export class RunPanel extends LoadedPanel<IRunDetail> {
  constructor(
    readonly runId: string,
    private readonly context: IPanelContext
  ) {
    super(`runs/${encodeURIComponent(runId)}`);
    this.addClass('jp-mlops-run-panel');
  }

  protected renderData(detail: IRunDetail): JSX.Element {
    return (
      <>
        <ErrorLine text={this.error} />
        <RunDetailView
          detail={detail}
          onRegister={() => void this._register(detail)}
          onOpenNotebook={path => this.context.openPath(path)}
          onLineage={() => this.context.showLineage(detail.run_id)}
        />
      </>
    );
  }

  private async _register(run: IRunDetail): Promise<void> {
    const answer = await confirmAction({
      title: 'Register model',
      message: `Register the model of run ${run.name || run.run_id} as a new version (alias candidate).`,
      action: 'Register',
      name: '',
      reasonOptional: true
    });
    if (!answer) {
      return;
    }
    try {
      const version = await registerRunModel(
        run.run_id,
        answer.name || null,
        answer.reason || null
      );
      this.error = null;
      this.context.openVersion(version.name, version.version);
    } catch (error) {
      this.error = String(error);
    }
    this.update();
  }
}

export class ComparisonPanel extends LoadedPanel<IComparison> {
  constructor(runIds: string[]) {
    const query = new URLSearchParams();
    runIds.forEach(id => query.append('run', id));
    super(`comparisons?${query.toString()}`);
    this.addClass('jp-mlops-comparison-panel');
  }

  protected renderData(comparison: IComparison): JSX.Element {
    return <ComparisonView comparison={comparison} />;
  }
}

/** Renders Markdown with JupyterLab's renderer into a node React leaves alone. */
function MarkdownCard(props: {
  markdown: string;
  rendermime: IRenderMimeRegistry;
}): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => {
    const renderer = props.rendermime.createRenderer('text/markdown');
    const model = new MimeModel({
      data: { 'text/markdown': props.markdown },
      trusted: false
    });
    void renderer.renderModel(model);
    host.current?.appendChild(renderer.node);
    return () => renderer.dispose();
  }, [props.markdown]);
  return <div className="jp-mlops-card" ref={host} />;
}

/** The version selected in the release model, with its actions and its card. */
export class VersionPanel extends ModelView<ReleaseModel> {
  constructor(
    model: ReleaseModel,
    context: IPanelContext,
    private readonly rendermime: IRenderMimeRegistry
  ) {
    super(model, context);
    this.addClass('jp-mlops-main-panel');
    this.addClass('jp-mlops-version-panel');
  }

  protected renderContent(): JSX.Element {
    const model = this.model;
    const detail = model.detail;
    if (!detail) {
      return (
        <div className="jp-mlops-main-body">
          <ErrorLine text={model.error} />
          <div className="jp-mlops-empty">Loading the version…</div>
        </div>
      );
    }
    this.title.label = `${detail.name} v${detail.version}`;
    const job = model.validation;
    const versions = model.versions;
    return (
      <VersionDetailView
        detail={detail}
        busy={job !== null && ['queued', 'running'].includes(job.status)}
        message={
          job && ['queued', 'running'].includes(job.status)
            ? { text: `${job.title}: ${job.status}…`, error: false }
            : model.message
        }
        canaryNote={
          versions && 'canary' in versions.aliases
            ? `canary v${versions.aliases.canary}: ${versions.canary_weight}% of traffic`
            : null
        }
        onAction={action => void this._act(action)}
        card={
          <MarkdownCard
            markdown={detail.card ?? ''}
            rendermime={this.rendermime}
          />
        }
      />
    );
  }

  private async _act(action: ReleaseAction): Promise<void> {
    const detail = this.model.detail;
    if (!detail) {
      return;
    }
    switch (action) {
      case 'validate':
        return actions.validate(this.model, detail);
      case 'rollback':
        return actions.rollback(this.model);
      case 'lineage':
        return this.context.showLineage(
          `models:/${detail.name}/${detail.version}`
        );
      case 'monitor':
        return this.context.showMonitor(detail.name);
      default:
        return actions.promote(this.model, detail, action);
    }
  }
}

/** The lineage graph around the lineage model's focus; click to move, again to open. */
export class LineagePanel extends ModelView<LineageModel> {
  constructor(model: LineageModel, context: IPanelContext) {
    super(model, context);
    this.addClass('jp-mlops-main-panel');
    this.addClass('jp-mlops-lineage-panel');
  }

  protected renderContent(): JSX.Element {
    const graph = this.model.graph;
    return (
      <div className="jp-mlops-main-body">
        <header className="jp-mlops-main-header">
          <h2>{`Lineage of ${this.model.node || '…'}`}</h2>
          <div className="jp-mlops-detail-meta">
            Click a node to centre the graph on it; click the centred node to
            open it.
          </div>
        </header>
        <ErrorLine text={this.model.error} />
        {graph && (
          <div className="jp-mlops-graph-scroll">
            <LineageGraph
              graph={graph}
              onFocus={node => void this.model.show(refOf(node))}
              onOpen={node => {
                const [kind, ...rest] = node.id.split(':');
                const ident = rest.join(':');
                if (kind === 'run') {
                  this.context.openRun(ident);
                } else if (kind === 'model_version') {
                  const [name, version] = ident.split('@');
                  this.context.openVersion(name, version);
                }
              }}
            />
          </div>
        )}
      </div>
    );
  }
}

export class MonitorPanel extends ModelView<MonitorModel> {
  constructor(model: MonitorModel, context: IPanelContext) {
    super(model, context);
    this.addClass('jp-mlops-main-panel');
    this.addClass('jp-mlops-monitor-panel');
  }

  protected renderContent(): JSX.Element {
    const report = this.model.report;
    return (
      <>
        <ErrorLine text={this.model.error} />
        {report ? (
          <MonitorReportView report={report} />
        ) : (
          <div className="jp-mlops-empty">Loading the report…</div>
        )}
      </>
    );
  }
}
