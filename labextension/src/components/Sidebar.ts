/** Assembles the left-area sidebar: a title, a toolbar with refresh, and six icon tabs. */
import { TranslationBundle } from '@jupyterlab/translation';
import {
  bellIcon,
  buildIcon,
  LabIcon,
  listIcon,
  refreshIcon,
  SidePanel,
  tagIcon,
  ToolbarButton,
  treeViewIcon
} from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { TabPanel, Widget } from '@lumino/widgets';

import { loopIcon, mlopsIcon } from '../icons';
import { LoopModel } from '../models/loop';
import { PipelineModel } from '../models/pipeline';
import { LineageModel, MonitorModel } from '../models/insight';
import { ReleaseModel } from '../models/release';
import { RunsModel } from '../models/runs';
import {
  CommandIDs,
  IPolledModel,
  SIDEBAR_ID,
  TAB_NAMES,
  TabName
} from '../tokens';
import { IPanelContext, ModelView } from './common';
import { LineageView } from './LineageView';
import { LoopView } from './LoopView';
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
  loop: LoopModel;
}

/** What the sidebar opens in the main area (see MainArea). */
export interface IMainOpener {
  openRun(runId: string): void;
  compare(runIds: string[]): void;
  openVersion(name: string, version: string): void;
  openLineage(): void;
  openMonitor(name: string): void;
}

const ICONS: Record<TabName, LabIcon> = {
  runs: listIcon,
  models: tagIcon,
  pipeline: buildIcon,
  lineage: treeViewIcon,
  monitor: bellIcon,
  loop: loopIcon
};

/** The sidebar, and a function that brings one of its tabs to the front. */
export class MlopsSidebar extends SidePanel {
  constructor(options: MlopsSidebar.IOptions) {
    const tabs = new TabPanel({ tabPlacement: 'top' });
    super({ content: tabs });
    const { models, trans } = options;
    this.models = models;
    this._tabs = tabs;
    this.id = SIDEBAR_ID;
    this.addClass('jp-mlops-sidebar');
    this.title.icon = mlopsIcon;
    this.title.caption = trans.__(
      'MLOps: runs, models, pipeline, lineage, monitoring, the release loop'
    );
    tabs.tabBar.addClass('jp-mlops-tabbar');
    tabs.tabBar.node.setAttribute('aria-label', trans.__('MLOps views'));

    const heading = document.createElement('h2');
    heading.className = 'jp-mlops-sidebar-title';
    heading.textContent = 'MLOps';
    this.header.addWidget(new Widget({ node: heading }));
    this.toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: trans.__('Refresh the shown tab now'),
        onClick: () => void options.commands.execute(CommandIDs.refreshRuns)
      })
    );

    const main = options.main;
    const context: IPanelContext = {
      showTab: name => this.showTab(name),
      showLineage: ref => {
        this.showTab('lineage');
        void models.lineage.show(ref);
        main.openLineage();
      },
      showModel: name => {
        this.showTab('models');
        void models.release.selectModel(name);
      },
      showMonitor: name => {
        void models.monitor.show(name);
        main.openMonitor(name);
      },
      openRun: id => {
        models.lineage.select({
          ref: id,
          label:
            models.runs.runs.find(r => r.run_id === id)?.name || id.slice(0, 8),
          kind: 'run'
        });
        main.openRun(id);
      },
      compare: ids => main.compare(ids),
      openVersion: (name, version) => {
        models.lineage.select({
          ref: `models:/${name}/${version}`,
          label: `${name} v${version}`,
          kind: 'model_version'
        });
        this.showTab('models');
        main.openVersion(name, version);
      },
      openPath: options.openPath,
      trans
    };
    this.context = context;
    const titles: Record<TabName, string> = {
      runs: trans.__('Runs'),
      models: trans.__('Models'),
      pipeline: trans.__('Pipeline'),
      lineage: trans.__('Lineage'),
      monitor: trans.__('Monitor'),
      loop: trans.__('Loop')
    };
    const views: Record<TabName, ModelView<IPolledModel>> = {
      runs: new RunsView(models.runs, context, options.runColumns),
      models: new ModelsView(models.release, context),
      pipeline: new PipelineView(models.pipeline, context),
      lineage: new LineageView(models.lineage, context, () =>
        main.openLineage()
      ),
      monitor: new MonitorView(models.monitor, context),
      loop: new LoopView(models.loop, context)
    };
    for (const name of TAB_NAMES) {
      const view = views[name];
      view.id = `jp-mlops-tab-${name}`;
      // the label stays for screen readers (hidden by CSS); the icon and tooltip show
      view.title.label = titles[name];
      view.title.caption = titles[name];
      view.title.icon = ICONS[name];
      tabs.addWidget(view);
    }
    this._views = views;
  }

  readonly models: ISidebarModels;
  readonly context: IPanelContext;

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

  /** Re-render every tab (after a settings change). */
  updateViews(): void {
    TAB_NAMES.forEach(name => this._views[name].update());
  }

  private _tabs: TabPanel;
  private _views: Record<TabName, ModelView<IPolledModel>>;
}

export namespace MlopsSidebar {
  export interface IOptions {
    models: ISidebarModels;
    commands: CommandRegistry;
    openPath: (path: string) => void;
    main: IMainOpener;
    trans: TranslationBundle;
    /** The metric names the user wants beside each run, in order. */
    runColumns: () => ReadonlyArray<string>;
  }
}
