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
  content: {
    activeCell: { model: { type: string; sharedModel: ISharedCell } } | null;
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
