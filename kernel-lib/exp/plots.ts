/** Figure builders for the analyses: plotly JSON with one consistent look. */
import type { Figure } from '../report/types.ts';

export interface Series {
  name: string;
  x: number[];
  y: number[];
  /** Half-width of an error bar per point (e.g. the standard error across seeds). */
  error?: number[];
  /** An interval per point instead (e.g. a 95% confidence interval): its low and high ends. */
  interval?: { lo: number[]; hi: number[] };
  /** Dashed line (baselines). */
  dashed?: boolean;
  /** Markers only. */
  markers?: boolean;
}

const layoutBase = (title: string, x: string, y: string, logX = false) => ({
  title: { text: title },
  xaxis: { title: { text: x }, ...(logX ? { type: 'log' } : {}), zeroline: false },
  yaxis: { title: { text: y }, zeroline: false },
  margin: { l: 70, r: 20, t: 50, b: 60 },
  legend: { orientation: 'v' },
  height: 420,
});

function clean(v: number): number | null {
  return Number.isFinite(v) ? v : null; // JSON has no NaN: plotly leaves a gap for null
}

/** Asymmetric error bars from an interval around each point. */
function intervalBars(y: number[], { lo, hi }: { lo: number[]; hi: number[] }) {
  return { type: 'data', symmetric: false, visible: true, array: y.map((v, i) => clean(hi[i] - v)), arrayminus: y.map((v, i) => clean(v - lo[i])) };
}

/** Lines (or markers) over a numeric x axis. */
export function lineFigure(o: {
  id: string; title: string; x: string; y: string; series: Series[]; caption?: string; logX?: boolean;
  /** A horizontal line at y = 0 (for differences). */
  zeroLine?: boolean;
}): Figure {
  return {
    id: o.id,
    title: o.title,
    caption: o.caption,
    data: o.series.map((s) => ({
      type: 'scatter',
      mode: s.markers ? 'markers' : 'lines+markers',
      name: s.name,
      x: s.x.map(clean),
      y: s.y.map(clean),
      ...(s.error ? { error_y: { type: 'data', array: s.error.map(clean), visible: true } } : {}),
      ...(s.interval ? { error_y: intervalBars(s.y, s.interval) } : {}),
      ...(s.dashed ? { line: { dash: 'dash' } } : {}),
    })),
    layout: {
      ...layoutBase(o.title, o.x, o.y, o.logX),
      ...(o.zeroLine ? { shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: 0, y1: 0, line: { color: '#59636e', width: 1 } }] } : {}),
    },
  };
}

/** Grouped bars over categories. */
export function barFigure(o: { id: string; title: string; x: string; y: string; categories: string[]; series: { name: string; values: number[]; error?: number[] }[]; caption?: string }): Figure {
  return {
    id: o.id,
    title: o.title,
    caption: o.caption,
    data: o.series.map((s) => ({
      type: 'bar',
      name: s.name,
      x: o.categories,
      y: s.values.map(clean),
      ...(s.error ? { error_y: { type: 'data', array: s.error.map(clean), visible: true } } : {}),
    })),
    layout: { ...layoutBase(o.title, o.x, o.y), barmode: 'group' },
  };
}

/**
 * A heatmap of rows × columns. Category labels may be long (genres): the x labels are turned
 * by 45° when they would not fit upright, and both axes grow their margins to hold their labels
 * and, below or beside them at a fixed distance, their titles, so the two never overlap.
 */
export function heatmapFigure(o: { id: string; title: string; rows: string[]; columns: string[]; z: number[][]; x: string; y: string; scale: string; caption?: string }): Figure {
  const base = layoutBase(o.title, o.x, o.y);
  const longest = Math.max(0, ...o.columns.map((c) => c.length));
  const turned = longest * o.columns.length > 90; // about what fits upright across the plot at plotly's default font
  return {
    id: o.id,
    title: o.title,
    caption: o.caption,
    data: [{ type: 'heatmap', x: o.columns, y: o.rows, z: o.z.map((r) => r.map(clean)), colorscale: 'Viridis', colorbar: { title: { text: o.scale } } }],
    layout: {
      ...base,
      xaxis: { ...base.xaxis, type: 'category', tickangle: turned ? -45 : 0, automargin: true, title: { text: o.x, standoff: 12 } },
      yaxis: { ...base.yaxis, type: 'category', automargin: true, title: { text: o.y, standoff: 10 } },
      height: Math.max(320, 28 * o.rows.length + 140) + (turned ? Math.round(6.5 * longest) : 0),
    },
  };
}
