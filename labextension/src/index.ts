/** Plugin definitions only; the model, views and requests live in their own modules. */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';

import { createSidebar } from './components/Sidebar';
import { RunsModel } from './model';
import { CommandIDs } from './tokens';

const PALETTE_CATEGORY = 'MLOps';

const sidebarPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlops:sidebar',
  description: 'A left-area panel listing the workspace’s recent MLflow runs.',
  autoStart: true,
  optional: [ILayoutRestorer, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null
  ): void => {
    const model = new RunsModel();
    const sidebar = createSidebar(model, app.commands);

    app.commands.addCommand(CommandIDs.openPanel, {
      label: 'Open MLOps Panel',
      caption: 'Show the recent runs of this workspace',
      execute: () => {
        app.shell.activateById(sidebar.id);
      }
    });
    app.commands.addCommand(CommandIDs.refreshRuns, {
      label: 'Refresh MLOps Runs',
      caption: 'Fetch the recent runs now',
      execute: () => model.refresh()
    });

    app.shell.add(sidebar, 'left', { rank: 850 });
    if (restorer) {
      restorer.add(sidebar, sidebar.id);
    }
    if (palette) {
      palette.addItem({
        command: CommandIDs.openPanel,
        category: PALETTE_CATEGORY
      });
      palette.addItem({
        command: CommandIDs.refreshRuns,
        category: PALETTE_CATEGORY
      });
    }
  }
};

export default [sidebarPlugin];
