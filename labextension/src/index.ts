/** Plugin definitions only; the models, views, commands and requests live in their own modules. */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';

import { addCommands } from './commands';
import { MlopsSidebar } from './components/Sidebar';
import { LineageModel, MonitorModel } from './models/insight';
import { PipelineModel } from './models/pipeline';
import { ReleaseModel } from './models/release';
import { RunsModel } from './models/runs';

const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlops:sidebar',
  description:
    'A left-area panel: runs, models and their release, pipeline builds, lineage and monitoring.',
  autoStart: true,
  optional: [ILayoutRestorer, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ): void => {
    const models = {
      runs: new RunsModel(),
      release: new ReleaseModel(),
      pipeline: new PipelineModel(),
      lineage: new LineageModel(),
      monitor: new MonitorModel()
    };
    const sidebar = new MlopsSidebar(
      models,
      app.commands,
      path => void app.commands.execute('docmanager:open', { path })
    );
    addCommands(app, sidebar, palette);
    app.shell.add(sidebar, 'left', { rank: 850 });
    if (restorer) {
      restorer.add(sidebar, sidebar.id);
    }
  }
};

export default [sidebarPlugin];
