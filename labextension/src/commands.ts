/** The panel's commands (in the command palette under "MLOps"; one in the cell context menu). */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

import { canTrack, cellRunQuery, pickCellRun, trackActiveCell } from './cells';
import { requestAPI } from './request';
import { IRunsResponse } from './tokens';
import { MlopsSidebar } from './components/Sidebar';
import { MainArea } from './mainarea';
import { CommandIDs, TabName } from './tokens';

const PALETTE_CATEGORY = 'MLOps';

export function addCommands(
  app: JupyterFrontEnd,
  sidebar: MlopsSidebar,
  main: MainArea,
  palette: ICommandPalette | null,
  trans: TranslationBundle
): void {
  const { commands, shell } = app;
  const tabCommands: Array<[string, TabName, string]> = [
    [CommandIDs.showRuns, 'runs', trans.__('Show MLOps Runs')],
    [CommandIDs.showModels, 'models', trans.__('Show MLOps Models')],
    [CommandIDs.showPipeline, 'pipeline', trans.__('Show MLOps Pipeline')],
    [CommandIDs.showLineage, 'lineage', trans.__('Show MLOps Lineage')],
    [CommandIDs.showMonitor, 'monitor', trans.__('Show MLOps Monitoring')],
    [CommandIDs.showLoop, 'loop', trans.__('Show MLOps Loop')]
  ];
  commands.addCommand(CommandIDs.openPanel, {
    label: trans.__('Open MLOps Panel'),
    caption: trans.__(
      'Show the runs, models, pipeline, lineage, monitoring and release loop of this workspace'
    ),
    execute: () => {
      shell.activateById(sidebar.id);
    }
  });
  commands.addCommand(CommandIDs.refreshRuns, {
    label: trans.__('Refresh MLOps Panel'),
    caption: trans.__('Fetch the shown tab’s data now'),
    execute: () => sidebar.refreshCurrent()
  });
  for (const [id, tab, label] of tabCommands) {
    commands.addCommand(id, {
      label,
      execute: () => {
        shell.activateById(sidebar.id);
        sidebar.showTab(tab);
      }
    });
  }
  commands.addCommand(CommandIDs.build, {
    label: trans.__('Build MLOps Pipeline'),
    caption: trans.__('Build the steps of mlops.yaml whose cache is stale'),
    isEnabled: () => !sidebar.models.pipeline.building,
    execute: async () => {
      shell.activateById(sidebar.id);
      sidebar.showTab('pipeline');
      await sidebar.models.pipeline.startBuild();
    }
  });
  commands.addCommand(CommandIDs.openRun, {
    label: args =>
      args.runId
        ? trans.__('Open MLOps Run %1', String(args.runId).slice(0, 8))
        : trans.__('Open MLOps Run'),
    caption: trans.__('Open a tracked run in the main area'),
    isEnabled: args => typeof args.runId === 'string' && args.runId !== '',
    execute: args => main.openRun(String(args.runId))
  });
  commands.addCommand(CommandIDs.compareRuns, {
    label: trans.__('Compare Selected MLOps Runs'),
    isEnabled: () => sidebar.models.runs.selected.size >= 2,
    execute: () => main.compare([...sidebar.models.runs.selected])
  });
  commands.addCommand(CommandIDs.openVersion, {
    label: trans.__('Open MLOps Model Version'),
    isEnabled: args => !!args.name && !!args.version,
    execute: args => main.openVersion(String(args.name), String(args.version))
  });
  commands.addCommand(CommandIDs.openLineage, {
    label: trans.__('Open MLOps Lineage Graph'),
    execute: args => {
      if (args.node) {
        sidebar.context.showLineage(String(args.node));
      } else {
        main.openLineage();
      }
    }
  });
  commands.addCommand(CommandIDs.openMonitor, {
    label: trans.__('Open MLOps Monitoring Report'),
    isEnabled: args => !!args.model,
    execute: args => sidebar.context.showMonitor(String(args.model))
  });
  commands.addCommand(CommandIDs.trackCell, {
    label: trans.__('Track This Cell'),
    caption: trans.__('Put %%mlops track at the top of the active cell'),
    isEnabled: () => canTrack(shell.currentWidget),
    execute: () => {
      trackActiveCell(shell.currentWidget);
    }
  });
  commands.addCommand(CommandIDs.openCellRun, {
    label: trans.__('Open Run of This Cell'),
    caption: trans.__('Open the run this tracked cell recorded last'),
    isEnabled: () => cellRunQuery(shell.currentWidget) !== null,
    execute: async () => {
      const found = cellRunQuery(shell.currentWidget);
      if (!found) {
        return;
      }
      const page = await requestAPI<IRunsResponse>(`runs?${found.query}`);
      const run = pickCellRun(page.runs, found.count);
      if (!run) {
        throw new Error('this cell has no recorded run yet');
      }
      main.openRun(run.run_id);
    }
  });
  app.contextMenu.addItem({
    command: CommandIDs.openCellRun,
    selector: '.jp-Notebook .jp-CodeCell',
    rank: 21
  });
  app.contextMenu.addItem({
    command: CommandIDs.trackCell,
    selector: '.jp-Notebook .jp-CodeCell',
    rank: 20
  });
  if (palette) {
    for (const command of [
      CommandIDs.openPanel,
      CommandIDs.refreshRuns,
      ...tabCommands.map(([id]) => id),
      CommandIDs.build,
      CommandIDs.compareRuns,
      CommandIDs.openLineage,
      CommandIDs.trackCell
    ]) {
      palette.addItem({ command, category: PALETTE_CATEGORY });
    }
  }
}
