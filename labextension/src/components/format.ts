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

/** A number as a reader wants it: four significant digits, no trailing zeros, thousands whole. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) {
    return String(value);
  }
  if (Number.isInteger(value) || Math.abs(value) >= 1000) {
    return Math.round(value).toLocaleString('en-US');
  }
  return String(parseFloat(value.toPrecision(4)));
}

/** `net_value_per_100` as `net value per 100`. */
function words(key: string): string {
  return key.replace(/_/g, ' ');
}

/**
 * A gate's value (or threshold) as lines a reviewer reads: a number rounded, a mapping of
 * figures (the business gate's KPIs) one `name value` line each, a list joined by commas.
 */
export function gateValueLines(value: unknown): string[] {
  if (value === null || value === undefined || value === '') {
    return ['-'];
  }
  if (typeof value === 'number') {
    return [formatNumber(value)];
  }
  if (typeof value === 'boolean') {
    return [value ? 'yes' : 'no'];
  }
  if (Array.isArray(value)) {
    return [value.map(v => gateValueLines(v).join(' ')).join(', ')];
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) {
      return ['-'];
    }
    return entries.map(
      ([k, v]) => `${words(k)} ${gateValueLines(v).join(' ')}`
    );
  }
  return [String(value)];
}

/** How long ago (or from now) `seconds` since the epoch is, in a few characters. */
export function formatWhen(
  seconds: number | null | undefined,
  now = Date.now()
): string {
  if (seconds === null || seconds === undefined) {
    return '';
  }
  const delta = Math.round(seconds - now / 1000);
  const span = Math.abs(delta);
  const text =
    span < 60
      ? `${span} s`
      : span < 3570
        ? `${Math.round(span / 60)} min`
        : span < 86400 * 2
          ? `${Math.round(span / 3600)} h`
          : `${Math.round(span / 86400)} d`;
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}
