/** Assembles the left-area sidebar: a title, a toolbar with refresh, and the runs list. */
import {
  refreshIcon,
  SidePanel,
  ToolbarButton
} from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { Panel, Widget } from '@lumino/widgets';

import { mlopsIcon } from '../icons';
import { CommandIDs, IRunsModel, SIDEBAR_ID } from '../tokens';
import { RunsPanel } from './RunsPanel';

export function createSidebar(
  model: IRunsModel,
  commands: CommandRegistry
): SidePanel {
  // A plain Panel as content: one list needs no accordion section header.
  const sidebar = new SidePanel({ content: new Panel() });
  sidebar.id = SIDEBAR_ID;
  sidebar.addClass('jp-mlops-sidebar');
  sidebar.title.icon = mlopsIcon;
  sidebar.title.caption = 'MLOps: recent runs';

  const heading = document.createElement('h2');
  heading.className = 'jp-mlops-sidebar-title';
  heading.textContent = 'Recent runs';
  sidebar.header.addWidget(new Widget({ node: heading }));

  sidebar.toolbar.addItem(
    'refresh',
    new ToolbarButton({
      icon: refreshIcon,
      tooltip: 'Refresh the runs now',
      onClick: () => void commands.execute(CommandIDs.refreshRuns)
    })
  );
  sidebar.addWidget(new RunsPanel(model));
  return sidebar;
}
