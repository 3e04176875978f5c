/** The sidebar's commands (also in the command palette under "MLOps"). */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';

import { MlopsSidebar } from './components/Sidebar';
import { CommandIDs, TabName } from './tokens';

const PALETTE_CATEGORY = 'MLOps';

const TAB_COMMANDS: Array<[string, TabName, string]> = [
  [CommandIDs.showRuns, 'runs', 'Show MLOps Runs'],
  [CommandIDs.showModels, 'models', 'Show MLOps Models'],
  [CommandIDs.showPipeline, 'pipeline', 'Show MLOps Pipeline'],
  [CommandIDs.showLineage, 'lineage', 'Show MLOps Lineage'],
  [CommandIDs.showMonitor, 'monitor', 'Show MLOps Monitoring']
];

export function addCommands(
  app: JupyterFrontEnd,
  sidebar: MlopsSidebar,
  palette: ICommandPalette | null
): void {
  const { commands, shell } = app;
  commands.addCommand(CommandIDs.openPanel, {
    label: 'Open MLOps Panel',
    caption:
      'Show the runs, models, pipeline, lineage and monitoring of this workspace',
    execute: () => {
      shell.activateById(sidebar.id);
    }
  });
  commands.addCommand(CommandIDs.refreshRuns, {
    label: 'Refresh MLOps Panel',
    caption: 'Fetch the shown tab’s data now',
    execute: () => sidebar.refreshCurrent()
  });
  for (const [id, tab, label] of TAB_COMMANDS) {
    commands.addCommand(id, {
      label,
      execute: () => {
        shell.activateById(sidebar.id);
        sidebar.showTab(tab);
      }
    });
  }
  commands.addCommand(CommandIDs.build, {
    label: 'Build MLOps Pipeline',
    caption: 'Build the steps of mlops.yaml whose cache is stale',
    isEnabled: () => !sidebar.models.pipeline.building,
    execute: async () => {
      shell.activateById(sidebar.id);
      sidebar.showTab('pipeline');
      await sidebar.models.pipeline.startBuild();
    }
  });
  if (palette) {
    for (const command of [
      CommandIDs.openPanel,
      CommandIDs.refreshRuns,
      ...TAB_COMMANDS.map(([id]) => id),
      CommandIDs.build
    ]) {
      palette.addItem({ command, category: PALETTE_CATEGORY });
    }
  }
}
