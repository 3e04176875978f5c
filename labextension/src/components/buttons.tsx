/**
 * A button with the classes of @jupyterlab/ui-components' `Button` (jp-Button, jp-mod-styled,
 * jp-mod-accept, jp-mod-minimal, jp-mod-small), so it looks like JupyterLab's own; written here
 * without importing JupyterLab so the pure views stay testable with jest.
 */
import * as React from 'react';

export function Btn(props: {
  label: string;
  onClick: () => void;
  disabled?: boolean;
  title?: string;
  className?: string;
  accept?: boolean;
  minimal?: boolean;
}): JSX.Element {
  const classes = [
    'jp-Button',
    'jp-mod-styled',
    'jp-mod-small',
    'jp-mlops-button'
  ];
  if (props.accept) {
    classes.push('jp-mod-accept');
  }
  if (props.minimal) {
    classes.push('jp-mod-minimal');
  }
  if (props.className) {
    classes.push(props.className);
  }
  return (
    <button
      type="button"
      className={classes.join(' ')}
      title={props.title}
      aria-label={props.title ?? props.label}
      disabled={props.disabled}
      onClick={props.onClick}
    >
      {props.label}
    </button>
  );
}

/** A status shown as a small coloured mark with its word as tooltip and accessible name. */
export function StatusMark({ status }: { status: string }): JSX.Element {
  const word = (status || 'unknown').toLowerCase();
  const glyph: Record<string, string> = {
    finished: '✓',
    failed: '✗',
    killed: '✗',
    running: '●',
    scheduled: '○',
    fresh: '✓',
    stale: '●',
    passed: '✓',
    pending: '○',
    done: '✓',
    promoted: '✓',
    validated: '✓',
    waiting: '◷',
    skipped: '–',
    unchanged: '=',
    stopped: '✗'
  };
  return (
    <span
      className={`jp-mlops-status-mark jp-mlops-status-${word}`}
      role="img"
      aria-label={word}
      title={word}
    >
      {glyph[word] ?? '?'}
    </span>
  );
}
