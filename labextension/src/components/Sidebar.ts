/** Assembles the left-area sidebar: a title, a toolbar with refresh, and the five tabs. */
import {
  refreshIcon,
  SidePanel,
  ToolbarButton
} from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { TabPanel, Widget } from '@lumino/widgets';

import { mlopsIcon } from '../icons';
import { PipelineModel } from '../models/pipeline';
import { LineageModel, MonitorModel } from '../models/insight';
import { ReleaseModel } from '../models/release';
import { RunsModel } from '../models/runs';
import { CommandIDs, SIDEBAR_ID, TAB_NAMES, TabName } from '../tokens';
import { IPanelContext, ModelView } from './common';
import { LineageView } from './LineageView';
import { ModelsView } from './ModelsView';
import { MonitorView } from './MonitorView';
import { PipelineView } from './PipelineView';
import { RunsView } from './RunsView';

/** The models behind the tabs, one each. */
export interface ISidebarModels {
  runs: RunsModel;
  release: ReleaseModel;
  pipeline: PipelineModel;
  lineage: LineageModel;
  monitor: MonitorModel;
}

const TITLES: Record<TabName, string> = {
  runs: 'Runs',
  models: 'Models',
  pipeline: 'Pipeline',
  lineage: 'Lineage',
  monitor: 'Monitor'
};

/** The sidebar, and a function that brings one of its tabs to the front. */
export class MlopsSidebar extends SidePanel {
  constructor(
    readonly models: ISidebarModels,
    commands: CommandRegistry,
    openPath: (path: string) => void
  ) {
    const tabs = new TabPanel({ tabPlacement: 'top' });
    super({ content: tabs });
    this._tabs = tabs;
    this.id = SIDEBAR_ID;
    this.addClass('jp-mlops-sidebar');
    this.title.icon = mlopsIcon;
    this.title.caption = 'MLOps: runs, models, pipeline, lineage, monitoring';

    const heading = document.createElement('h2');
    heading.className = 'jp-mlops-sidebar-title';
    heading.textContent = 'MLOps';
    this.header.addWidget(new Widget({ node: heading }));
    this.toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: 'Refresh the shown tab now',
        onClick: () => void commands.execute(CommandIDs.refreshRuns)
      })
    );

    const context: IPanelContext = {
      showTab: name => this.showTab(name),
      showLineage: ref => {
        this.showTab('lineage');
        void models.lineage.show(ref);
      },
      showModel: name => {
        this.showTab('models');
        void models.release.selectModel(name);
      },
      showMonitor: name => {
        this.showTab('monitor');
        void models.monitor.show(name);
      },
      openPath
    };
    const views: Record<TabName, ModelView<any>> = {
      runs: new RunsView(models.runs, context),
      models: new ModelsView(models.release, context),
      pipeline: new PipelineView(models.pipeline, context),
      lineage: new LineageView(models.lineage, context),
      monitor: new MonitorView(models.monitor, context)
    };
    for (const name of TAB_NAMES) {
      const view = views[name];
      view.id = `jp-mlops-tab-${name}`;
      view.title.label = TITLES[name];
      tabs.addWidget(view);
    }
    this._views = views;
  }

  /** The tab in front. */
  get currentTab(): TabName {
    const index = this._tabs.currentIndex;
    return TAB_NAMES[index >= 0 ? index : 0];
  }

  showTab(name: TabName): void {
    this._tabs.currentIndex = TAB_NAMES.indexOf(name);
  }

  /** Refresh the model of the tab in front. */
  refreshCurrent(): Promise<void> {
    return this._views[this.currentTab].refreshModel();
  }

  private _tabs: TabPanel;
  private _views: Record<TabName, ModelView<any>>;
}
