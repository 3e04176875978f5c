/**
 * "Track this cell": puts `%%mlops track` at the top of the active notebook cell. The notebook
 * is reached through the shell's current widget (a NotebookPanel has `content.activeCell`), so
 * the extension does not depend on @jupyterlab/notebook for one command.
 */
import { Widget } from '@lumino/widgets';

export const TRACK_MAGIC = '%%mlops track';

interface ISharedCell {
  getSource(): string;
  setSource(source: string): void;
}

interface INotebookLike {
  context?: { path: string };
  content: {
    activeCell: {
      model: {
        type: string;
        sharedModel: ISharedCell;
        executionCount?: number | null;
      };
    } | null;
  };
}

function activeCell(widget: Widget | null): ISharedCell | null {
  const cell = (widget as unknown as INotebookLike | null)?.content?.activeCell;
  if (!cell || cell.model.type !== 'code') {
    return null;
  }
  return cell.model.sharedModel;
}

/** The source with the magic on its first line (unchanged when it is there already). */
export function withTrackMagic(source: string): string {
  const first = source.split('\n', 1)[0].trim();
  if (first.startsWith('%%mlops')) {
    return source;
  }
  return source ? `${TRACK_MAGIC}\n${source}` : `${TRACK_MAGIC}\n`;
}

/** Whether the current widget has an active code cell to track. */
export function canTrack(widget: Widget | null): boolean {
  return activeCell(widget) !== null;
}

/** Insert the magic in the active code cell; false when there is none. */
export function trackActiveCell(widget: Widget | null): boolean {
  const cell = activeCell(widget);
  if (!cell) {
    return false;
  }
  const source = cell.getSource();
  const tracked = withTrackMagic(source);
  if (tracked !== source) {
    cell.setSource(tracked);
  }
  return true;
}

/**
 * How to find the run a tracked cell recorded: the runs of its notebook (tag mlops.notebook,
 * matched on the file name since the kernel may know the path absolute), then the one whose
 * tag mlops.execution_count is the cell's (see `pickCellRun`). Null when the active cell is not
 * a tracked, executed code cell.
 */
export function cellRunQuery(
  widget: Widget | null
): { query: string; count: number } | null {
  const notebook = widget as unknown as INotebookLike | null;
  const cell = notebook?.content?.activeCell;
  const path = notebook?.context?.path;
  if (!cell || cell.model.type !== 'code' || !path) {
    return null;
  }
  const count = cell.model.executionCount;
  const source = cell.model.sharedModel.getSource();
  if (!count || !source.trimStart().startsWith('%%mlops track')) {
    return null;
  }
  const file = path.split('/').pop() ?? path;
  if (/['\\]/.test(file)) {
    return null; // would need escaping in MLflow's filter language
  }
  const filter = `tags.\`mlops.notebook\` LIKE '%${file}'`;
  return {
    query: new URLSearchParams({ limit: '50', filter }).toString(),
    count
  };
}

/**
 * The newest run recorded at execution `count`. The kernel may count the cell one ahead of the
 * prompt JupyterLab shows (ipykernel 7 increments before a magic reads it), so `count + 1` is
 * the second choice.
 */
export function pickCellRun<R extends { tags: Record<string, string> }>(
  runs: ReadonlyArray<R>,
  count: number
): R | null {
  for (const wanted of [count, count + 1]) {
    const found = runs.find(
      r => r.tags['mlops.execution_count'] === String(wanted)
    );
    if (found) {
      return found;
    }
  }
  return null;
}
