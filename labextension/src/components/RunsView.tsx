/**
 * Runs tab: experiment, filter and sort on top, then the compact run list (status mark, name,
 * key metric). A run opens in the main area; two or more selected runs open as a comparison.
 */
import { HTMLSelect, InputGroup } from '@jupyterlab/ui-components';
import * as React from 'react';

import { RunsModel } from '../models/runs';
import { Btn } from './buttons';
import { Empty, ErrorLine, IPanelContext, ModelView } from './common';
import { keyMetric } from './format';
import { RunList } from './RunList';

function Toolbar({
  model,
  trans
}: {
  model: RunsModel;
  trans: IPanelContext['trans'];
}): JSX.Element {
  const [filter, setFilter] = React.useState(model.filter);
  const options = [
    { value: '', label: trans.__('Newest first') },
    ...model.metricKeys.flatMap(k => [
      { value: `metrics.\`${k}\` DESC`, label: `${k} ↓` },
      { value: `metrics.\`${k}\` ASC`, label: `${k} ↑` }
    ])
  ];
  return (
    <div className="jp-mlops-runs-toolbar">
      <HTMLSelect
        className="jp-mlops-experiment"
        aria-label={trans.__('Experiment')}
        title={trans.__('Experiment')}
        value={model.experiment ?? ''}
        onChange={e => void model.setQuery({ experiment: e.target.value })}
        options={[
          { value: '', label: trans.__('All experiments') },
          ...model.experiments
            .filter(e => !e.internal)
            .map(e => ({ value: e.name, label: e.name }))
        ]}
      />
      <HTMLSelect
        className="jp-mlops-sort"
        aria-label={trans.__('Sort by')}
        title={trans.__('Sort by')}
        value={model.orderBy}
        onChange={e => void model.setQuery({ orderBy: e.target.value })}
        options={options}
      />
      <form
        className="jp-mlops-filter-form"
        onSubmit={e => {
          e.preventDefault();
          void model.setQuery({ filter });
        }}
      >
        <InputGroup
          className="jp-mlops-filter"
          aria-label={trans.__('Filter runs')}
          placeholder="filter: metrics.accuracy > 0.9"
          value={filter}
          rightIcon="ui-components:search"
          onChange={e => setFilter(e.target.value)}
        />
      </form>
    </div>
  );
}

export class RunsView extends ModelView<RunsModel> {
  constructor(
    model: RunsModel,
    context: IPanelContext,
    private readonly preferredMetrics: () => ReadonlyArray<string> = () => []
  ) {
    super(model, context);
    this.addClass('jp-mlops-runs-panel');
  }

  protected renderContent(): JSX.Element {
    const model = this.model;
    const trans = this.context.trans;
    const metric = keyMetric(model.runs, this.preferredMetrics());
    let body: JSX.Element;
    if (model.loading) {
      body = <Empty>{trans.__('Loading runs…')}</Empty>;
    } else if (model.runs.length === 0 && !model.error) {
      body = (
        <Empty>
          No runs yet. Track a cell with <code>%%mlops track</code>.
        </Empty>
      );
    } else {
      body = (
        <RunList
          runs={model.runs}
          metric={metric}
          selected={model.selected}
          onToggle={id => model.toggleSelected(id)}
          onOpen={id => this.context.openRun(id)}
        />
      );
    }
    return (
      <div className="jp-mlops-runs-tab">
        <Toolbar model={model} trans={trans} />
        <ErrorLine text={model.error} />
        <div className="jp-mlops-actions">
          <Btn
            label={trans.__('Compare (%1)', model.selected.size)}
            className="jp-mlops-compare"
            title={trans.__('Compare the selected runs in the main area')}
            disabled={model.selected.size < 2}
            onClick={() => this.context.compare([...model.selected])}
          />
          {metric && (
            <span
              className="jp-mlops-metric-heading"
              title="shown beside each run"
            >
              {metric}
            </span>
          )}
        </div>
        {body}
        {(model.page > 0 || model.hasNextPage) && (
          <div className="jp-mlops-actions jp-mlops-pager">
            <Btn
              label={trans.__('‹ Previous')}
              title={trans.__('Previous page')}
              disabled={model.page === 0}
              onClick={() => void model.previousPage()}
            />
            <Btn
              label={trans.__('Next ›')}
              title={trans.__('Next page')}
              disabled={!model.hasNextPage}
              onClick={() => void model.nextPage()}
            />
          </div>
        )}
      </div>
    );
  }
}
