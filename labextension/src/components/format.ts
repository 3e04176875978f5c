/** Formatting of store values for display: pure functions, no JupyterLab import. */

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) {
    return '';
  }
  return new Date(ms).toLocaleString();
}

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) {
    return '-';
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      return String(value);
    }
    return Number.isInteger(value) ? String(value) : value.toPrecision(4);
  }
  if (typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}

/** The metric worth showing beside a run: the first of `preferred` the runs have, else the
 * most widely logged plain metric (namespaced families like drift.ks.* last). */
export function keyMetric(
  runs: ReadonlyArray<{ metrics: Record<string, number> }>,
  preferred: ReadonlyArray<string> = []
): string | null {
  const counts = new Map<string, number>();
  for (const run of runs) {
    for (const key of Object.keys(run.metrics ?? {})) {
      if (!key.startsWith('mlops.')) {
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
  }
  for (const key of preferred) {
    if (counts.has(key)) {
      return key;
    }
  }
  const ranked = [...counts.entries()].sort(
    (a, b) =>
      Number(a[0].includes('.')) - Number(b[0].includes('.')) ||
      b[1] - a[1] ||
      a[0].localeCompare(b[0])
  );
  return ranked.length > 0 ? ranked[0][0] : null;
}
