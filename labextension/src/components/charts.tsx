/**
 * Charts drawn as plain SVG from React: line charts (a metric over steps, health over time) and
 * bar charts (a metric across runs). Colours come from JupyterLab's theme variables, so they
 * follow the light and dark themes. Pure components: no JupyterLab import, tested with jest.
 */
import * as React from 'react';

import { formatValue } from './format';

export interface ISeries {
  name: string;
  points: Array<[number, number]>;
}

const WIDTH = 480;
const HEIGHT = 180;
const PAD = { left: 48, right: 12, top: 12, bottom: 24 };
/** Series colours, picked by index (JupyterLab theme variables, readable in both themes). */
const COLOURS = [
  'var(--jp-brand-color1)',
  'var(--jp-warn-color1)',
  'var(--jp-success-color1)',
  'var(--jp-error-color1)',
  'var(--jp-info-color1, var(--jp-brand-color2))',
  'var(--jp-ui-font-color2)'
];

export function colour(index: number): string {
  return COLOURS[index % COLOURS.length];
}

function extent(values: number[]): [number, number] {
  const finite = values.filter(v => Number.isFinite(v));
  if (finite.length === 0) {
    return [0, 1];
  }
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (lo === hi) {
    lo -= Math.abs(lo) * 0.05 || 0.5;
    hi += Math.abs(hi) * 0.05 || 0.5;
  }
  return [lo, hi];
}

/** Map [lo, hi] to [a, b]. */
function scale(lo: number, hi: number, a: number, b: number) {
  return (v: number) => a + ((v - lo) / (hi - lo)) * (b - a);
}

/** Line chart: one polyline per series, x and y axes with their extremes labelled. */
export function LineChart(props: {
  title: string;
  series: ISeries[];
  xLabel?: string;
  formatX?: (x: number) => string;
}): JSX.Element {
  const { series } = props;
  const xs = series.flatMap(s => s.points.map(p => p[0]));
  const ys = series.flatMap(s => s.points.map(p => p[1]));
  const [x0, x1] = extent(xs);
  const [y0, y1] = extent(ys);
  const sx = scale(x0, x1, PAD.left, WIDTH - PAD.right);
  const sy = scale(y0, y1, HEIGHT - PAD.bottom, PAD.top);
  const fx = props.formatX ?? ((x: number) => formatValue(x));
  return (
    <figure className="jp-mlops-chart" aria-label={props.title}>
      <figcaption className="jp-mlops-chart-title">{props.title}</figcaption>
      <svg
        className="jp-mlops-line-chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`${props.title}: ${series.length} series`}
      >
        <line
          className="jp-mlops-axis"
          x1={PAD.left}
          y1={HEIGHT - PAD.bottom}
          x2={WIDTH - PAD.right}
          y2={HEIGHT - PAD.bottom}
        />
        <line
          className="jp-mlops-axis"
          x1={PAD.left}
          y1={PAD.top}
          x2={PAD.left}
          y2={HEIGHT - PAD.bottom}
        />
        <text className="jp-mlops-tick" x={PAD.left - 4} y={PAD.top + 8}>
          {formatValue(y1)}
        </text>
        <text
          className="jp-mlops-tick"
          x={PAD.left - 4}
          y={HEIGHT - PAD.bottom}
        >
          {formatValue(y0)}
        </text>
        <text
          className="jp-mlops-tick jp-mlops-tick-x"
          x={PAD.left}
          y={HEIGHT - 6}
        >
          {fx(x0)}
        </text>
        <text
          className="jp-mlops-tick jp-mlops-tick-x jp-mlops-tick-end"
          x={WIDTH - PAD.right}
          y={HEIGHT - 6}
        >
          {fx(x1)}
        </text>
        {series.map((s, i) => (
          <g key={s.name} className="jp-mlops-series" data-series={s.name}>
            <polyline
              fill="none"
              stroke={colour(i)}
              strokeWidth={2}
              points={s.points
                .filter(p => Number.isFinite(p[1]))
                .map(p => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`)
                .join(' ')}
            />
            {s.points.length === 1 && (
              <circle
                cx={sx(s.points[0][0])}
                cy={sy(s.points[0][1])}
                r={3}
                fill={colour(i)}
              />
            )}
          </g>
        ))}
      </svg>
      {series.length > 1 && <Legend names={series.map(s => s.name)} />}
    </figure>
  );
}

export function Legend({ names }: { names: string[] }): JSX.Element {
  return (
    <ul className="jp-mlops-legend">
      {names.map((name, i) => (
        <li key={name}>
          <span
            className="jp-mlops-swatch"
            style={{ background: colour(i) }}
            aria-hidden="true"
          />
          {name}
        </li>
      ))}
    </ul>
  );
}

/** Horizontal bars: one per item, longest for the largest value, the value written beside. */
export function BarChart(props: {
  title: string;
  bars: Array<{ label: string; value: number | null }>;
}): JSX.Element {
  const values = props.bars
    .map(b => b.value)
    .filter((v): v is number => v !== null && Number.isFinite(v));
  const hi = Math.max(0, ...values);
  const lo = Math.min(0, ...values);
  const span = hi - lo || 1;
  return (
    <figure className="jp-mlops-chart" aria-label={props.title}>
      <figcaption className="jp-mlops-chart-title">{props.title}</figcaption>
      <div className="jp-mlops-bars" role="list">
        {props.bars.map((bar, i) => {
          const known = bar.value !== null && Number.isFinite(bar.value);
          const width = known
            ? (100 * Math.abs(bar.value as number)) / span
            : 0;
          return (
            <div key={bar.label} className="jp-mlops-bar-row" role="listitem">
              <span className="jp-mlops-bar-label" title={bar.label}>
                {bar.label}
              </span>
              <span className="jp-mlops-bar-track">
                <span
                  className="jp-mlops-bar"
                  data-value={known ? String(bar.value) : ''}
                  style={{
                    width: `${width.toFixed(1)}%`,
                    background: colour(i)
                  }}
                />
              </span>
              <span className="jp-mlops-bar-value">
                {known ? formatValue(bar.value) : '-'}
              </span>
            </div>
          );
        })}
      </div>
    </figure>
  );
}
