/** Plugin definitions only; the models, views, commands and requests live in their own modules. */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { addCommands } from './commands';
import { MlopsSidebar } from './components/Sidebar';
import { MainArea } from './mainarea';
import { LineageModel, MonitorModel } from './models/insight';
import { LoopModel } from './models/loop';
import { PipelineModel } from './models/pipeline';
import { ReleaseModel } from './models/release';
import { RunsModel } from './models/runs';
import { applySettings, currentSettings } from './settings';
import { MlopsStatus } from './statusbar';
import { CommandIDs, SETTINGS_ID } from './tokens';

const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: SETTINGS_ID,
  description:
    'A left-area panel: runs, models and their release, pipeline builds, lineage, monitoring and the release loop.',
  autoStart: true,
  optional: [
    ILayoutRestorer,
    ICommandPalette,
    IRenderMimeRegistry,
    ISettingRegistry,
    ITranslator,
    IStatusBar
  ],
  activate: async (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    rendermime: IRenderMimeRegistry | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    statusBar: IStatusBar | null
  ): Promise<void> => {
    const trans = (translator ?? nullTranslator).load('jupyter_mlops');
    const models = {
      runs: new RunsModel(),
      release: new ReleaseModel(),
      pipeline: new PipelineModel(),
      lineage: new LineageModel(),
      monitor: new MonitorModel(),
      loop: new LoopModel()
    };
    const main = new MainArea(app.shell, models, rendermime);
    const sidebar = new MlopsSidebar({
      models,
      commands: app.commands,
      openPath: path => void app.commands.execute('docmanager:open', { path }),
      main,
      trans,
      runColumns: () => currentSettings().runColumns
    });
    main.context = sidebar.context;
    addCommands(app, sidebar, main, palette, trans);
    app.shell.add(sidebar, 'left', { rank: 850 });
    if (restorer) {
      restorer.add(sidebar, sidebar.id);
      void restorer.restore(main.runs, {
        command: CommandIDs.openRun,
        args: widget => ({ runId: widget.content.runId }),
        name: widget => widget.content.runId
      });
    }
    if (statusBar) {
      statusBar.registerStatusItem('jupyter-mlops:status', {
        item: new MlopsStatus(
          trans,
          () => void app.commands.execute(CommandIDs.openPanel)
        ),
        align: 'left',
        rank: 900
      });
    }
    if (settingRegistry) {
      const settings = await settingRegistry
        .load(SETTINGS_ID)
        .catch(() => null);
      if (settings) {
        applySettings(settings.composite, models, sidebar);
        settings.changed.connect(() =>
          applySettings(settings.composite, models, sidebar)
        );
      }
    }
  }
};

export default [sidebarPlugin];
