// Hand-written SVG charts. Each is an <figure> whose SVG has a title and a one-sentence description, followed by the
// same numbers as a table, so screen readers and people who prefer numbers get everything the picture shows.
import { type ReactNode, useId } from 'react';
import { ColumnHeads } from './Section.tsx';

export const SERIES_COLOURS = ['#5b2a86', '#b3541e', '#1f6f78', '#8a6d00', '#a4002a', '#3a5a9b', '#4d7c0f'];

export interface Series {
  name: string;
  points: { x: number; y: number }[];
  dashed?: boolean;
}

const W = 560;
const H = 220;
const PAD = { left: 64, right: 16, top: 12, bottom: 40 };

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v) ?? 10 * p;
}

function DataTable({ caption, columns, rows }: { caption: string; columns: string[]; rows: (string | number)[][] }) {
  return (
    <details className="data-table">
      <summary>Numbers behind “{caption}”</summary>
      <table>
        <caption>{caption}</caption>
        <ColumnHeads columns={columns} />
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {r.map((cell, k) => (k === 0 ? <th key={k} scope="row">{cell}</th> : <td key={k}>{cell}</td>))}
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

function Legend({ series }: { series: { name: string; dashed?: boolean }[] }) {
  return (
    <ul className="legend" aria-hidden="true">
      {series.map((s, i) => (
        <li key={s.name}>
          <svg width="28" height="10">
            <line x1="0" y1="5" x2="28" y2="5" stroke={SERIES_COLOURS[i % SERIES_COLOURS.length]} strokeWidth="3" strokeDasharray={s.dashed ? '6 4' : undefined} />
          </svg>
          {s.name}
        </li>
      ))}
    </ul>
  );
}

/** Lines over integer x (rounds). */
/** The chart's SVG, labelled by its title and one-sentence description for screen readers. */
function ChartSvg({ title, description, children }: { title: string; description: string; children: ReactNode }) {
  const titleId = useId();
  const descId = useId();
  return (
    <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${titleId} ${descId}`}>
      <title id={titleId}>{title}</title>
      <desc id={descId}>{description}</desc>
      {children}
    </svg>
  );
}

function AxisLabels({ x, y }: { x: string; y: string }) {
  return (
    <>
      <text x={(W + PAD.left) / 2} y={H - 6} textAnchor="middle" className="axis-label">
        {x}
      </text>
      <text x={14} y={(H - PAD.bottom) / 2} textAnchor="middle" className="axis-label" transform={`rotate(-90 14 ${(H - PAD.bottom) / 2})`}>
        {y}
      </text>
    </>
  );
}

/** The y coordinate of a value on an axis running from 0 to `top`. */
const yScale = (top: number) => (y: number) => H - PAD.bottom - (y / top) * (H - PAD.top - PAD.bottom);

/** Horizontal grid lines, each with its value, at `fractions` of the axis. */
function YGrid({ fractions, top, format }: { fractions: number[]; top: number; format: (v: number) => string }) {
  const sy = yScale(top);
  return (
    <>
      {fractions.map((f) => (
        <g key={f}>
          <line x1={PAD.left} x2={W - PAD.right} y1={sy(f * top)} y2={sy(f * top)} className="grid" />
          <text x={PAD.left - 6} y={sy(f * top) + 4} textAnchor="end" className="tick">
            {format(f * top)}
          </text>
        </g>
      ))}
    </>
  );
}

export function LineChart({ title, description, xLabel, yLabel, series, yMax, format }: { title: string; description: string; xLabel: string; yLabel: string; series: Series[]; yMax?: number; format: (v: number) => string }) {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const top = yMax ?? niceMax(Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.y))));
  const x0 = xs[0] ?? 1;
  const x1 = xs[xs.length - 1] ?? 1;
  const sx = (x: number) => PAD.left + (x1 === x0 ? (W - PAD.left - PAD.right) / 2 : ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right));
  const sy = yScale(top);
  return (
    <figure className="chart">
      <ChartSvg title={title} description={description}>
        <YGrid fractions={[0, 0.25, 0.5, 0.75, 1]} top={top} format={format} />
        {xs.map((x) => (
          <text key={x} x={sx(x)} y={H - PAD.bottom + 16} textAnchor="middle" className="tick">
            {x}
          </text>
        ))}
        <AxisLabels x={xLabel} y={yLabel} />
        {series.map((s, i) => {
          const colour = SERIES_COLOURS[i % SERIES_COLOURS.length];
          const pts = [...s.points].sort((a, b) => a.x - b.x);
          return (
            <g key={s.name}>
              {pts.length > 1 ? <polyline fill="none" stroke={colour} strokeWidth="2.5" strokeDasharray={s.dashed ? '6 4' : undefined} points={pts.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ')} /> : null}
              {pts.map((p) => (
                <circle key={p.x} cx={sx(p.x)} cy={sy(p.y)} r={s.dashed ? 6 : 4} fill={s.dashed ? 'none' : colour} stroke={colour} strokeWidth="2" />
              ))}
            </g>
          );
        })}
      </ChartSvg>
      <Legend series={series} />
      <DataTable caption={title} columns={[xLabel, ...series.map((s) => s.name)]} rows={xs.map((x) => [x, ...series.map((s) => { const p = s.points.find((q) => q.x === x); return p ? format(p.y) : '—'; })])} />
    </figure>
  );
}

/** Grouped bars: one group per category, one bar per series. */
export function BarChart({ title, description, categoryLabel, yLabel, categories, series, format }: { title: string; description: string; categoryLabel: string; yLabel: string; categories: string[]; series: { name: string; values: (number | null)[] }[]; format: (v: number) => string }) {
  const top = niceMax(Math.max(0, ...series.flatMap((s) => s.values.map((v) => v ?? 0))));
  const groupW = (W - PAD.left - PAD.right) / Math.max(1, categories.length);
  const barW = Math.min(40, (groupW * 0.8) / Math.max(1, series.length));
  const sy = yScale(top);
  return (
    <figure className="chart">
      <ChartSvg title={title} description={description}>
        <YGrid fractions={[0, 0.5, 1]} top={top} format={format} />
        {categories.map((c, ci) => {
          const gx = PAD.left + ci * groupW + (groupW - barW * series.length) / 2;
          return (
            <g key={c}>
              {series.map((s, si) => {
                const v = s.values[ci];
                return v === null || v === undefined ? null : <rect key={s.name} x={gx + si * barW} y={sy(v)} width={barW - 2} height={H - PAD.bottom - sy(v)} fill={SERIES_COLOURS[si % SERIES_COLOURS.length]} />;
              })}
              <text x={PAD.left + ci * groupW + groupW / 2} y={H - PAD.bottom + 16} textAnchor="middle" className="tick">
                {c}
              </text>
            </g>
          );
        })}
        <AxisLabels x={categoryLabel} y={yLabel} />
      </ChartSvg>
      <Legend series={series} />
      <DataTable caption={title} columns={[categoryLabel, ...series.map((s) => s.name)]} rows={categories.map((c, ci) => [c, ...series.map((s) => { const v = s.values[ci]; return v === null || v === undefined ? '—' : format(v); })])} />
    </figure>
  );
}

export const formatPercent = (v: number) => `${(v * 100).toFixed(v === 0 || v === 1 ? 0 : 1)}%`;
export const formatMs = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);
