/**
 * A per-layer chart: x = layer, one line per visible dataset, optionally with ± error bars.
 * The same Chart instance is updated in place on each snapshot, so the page does not flicker.
 */
import type { TooltipItem } from 'chart.js';
import { pointCounts, yRange, type LayerChartData } from '../../src/shared/chartData';
import { seriesShape } from '../../src/shared/palette';
import { describeLayerChart, formatValue } from '../../src/shared/chartText';
import { withAlpha } from '../color';
import { seriesColor, type Theme } from '../theme';
import { ThemedChart } from './themedChart';
import { axis, fontOf, gridColor, legend, tooltip } from './chartStyle';

export interface LayerChartOptions {
  /** Y axis title, also the start of the aria-label summary. */
  yTitle: string;
  /** Word for the error bars in tooltips ('std', 'SE'); none draws a plain line chart. */
  errorName?: string;
  /** How the y axis is scaled: `data` fits the data (the panel's "Start y axes at zero" stretches it to 0), `share` is fixed 0–100%. */
  scale?: 'data' | 'share';
  /** Start the y axis at zero, for the side view's glance chart. */
  fromZero?: boolean;
  /** Narrow side-view style: smaller fonts, legend below, no axis titles. */
  compact?: boolean;
}

interface ErrorPoint {
  x: number;
  y: number;
  yMin?: number;
  yMax?: number;
}

export class LayerChartView extends ThemedChart {
  private fromZero = false;

  constructor(
    id: string,
    canvas: HTMLCanvasElement,
    private readonly options: LayerChartOptions,
    /** Called with the layer the user clicked (drill-down). */
    private readonly onLayer?: (layer: number) => void,
  ) {
    super(id, canvas);
  }

  /** `fromZero`: the user's "Start y axes at zero" (charts that fit the data stretch to 0). */
  render(data: LayerChartData, theme: Theme, fromZero = this.options.fromZero ?? false): void {
    this.fromZero = fromZero;
    this.canvas.dataset.points = JSON.stringify(pointCounts(data));
    this.canvas.setAttribute('aria-label', describeLayerChart(data, this.options.yTitle));
    const config = this.config(data, theme);
    this.draw(config, theme);
    const y = this.axisRange('y');
    if (y) (this.canvas.dataset.yMin = String(y.min)), (this.canvas.dataset.yMax = String(y.max));
  }

  private yAxis(data: LayerChartData, theme: Theme) {
    const { compact, yTitle, scale } = this.options;
    const title = compact ? undefined : yTitle;
    if (scale === 'share') return axis(theme, title, { min: 0, max: 1, ticks: { color: theme.muted, font: fontOf(theme, 11), callback: (v: number | string) => `${Math.round(Number(v) * 100)}%` } });
    const fitted = yRange(data, this.fromZero);
    return axis(theme, title, fitted ? { min: fitted.min, max: fitted.max } : {});
  }

  private config(data: LayerChartData, theme: Theme) {
    const { errorName, compact } = this.options;
    // Error bars of several datasets at one layer would sit on top of each other; shift each
    // dataset a little sideways (a "dodge") on a numeric x axis so every bar stays readable.
    const numericX = !!errorName;
    const dodge = numericX && data.series.length > 1;
    const step = Math.min(0.2, 0.5 / Math.max(1, data.series.length));
    const datasets = data.series.map((s, i) => {
      const offset = dodge ? (i - (data.series.length - 1) / 2) * step : 0;
      const color = seriesColor(theme, s.colorIndex);
      const whisker = withAlpha(color, 0.8);
      const points: ErrorPoint[] = s.points.map((p) => ({ x: p.layer + offset, y: p.value, ...(errorName && p.error !== undefined ? { yMin: p.value - p.error, yMax: p.value + p.error } : {}) }));
      return {
        label: s.name,
        data: errorName ? points : points.map((p) => p.y),
        borderColor: color,
        backgroundColor: color,
        borderWidth: compact ? 1.5 : 2,
        pointStyle: seriesShape(s.colorIndex),
        pointRadius: compact ? 0 : 3,
        pointHoverRadius: 5,
        pointHitRadius: 6,
        spanGaps: false,
        errorBarColor: whisker,
        errorBarWhiskerColor: whisker,
        errorBarLineWidth: 1.25,
        errorBarWhiskerLineWidth: 1.25,
        errorBarWhiskerSize: 6,
      };
    });
    const n = (item: TooltipItem<'line'>) => data.series[item.datasetIndex]?.points[item.dataIndex];
    return {
      type: errorName ? 'lineWithErrorBars' : 'line',
      data: { labels: data.layers.map(tickLabel), datasets },
      plugins: [this.background],
      options: {
        interaction: { mode: 'index', intersect: false },
        layout: { padding: compact ? 0 : { right: 8 } },
        onClick: (_e: unknown, elements: { index: number }[]) => {
          const layer = data.layers[elements[0]?.index ?? -1];
          if (layer !== undefined) this.onLayer?.(layer);
        },
        onHover: (e: { native?: Event | null }, elements: unknown[]) => {
          const target = e.native?.target;
          if (this.onLayer && target instanceof HTMLElement) target.style.cursor = elements.length ? 'pointer' : 'default';
        },
        scales: {
          x: numericX ? layerAxis(theme, data.layers) : axis(theme, compact ? undefined : 'layer', { ticks: { color: theme.muted, font: fontOf(theme, 11), autoSkip: true, maxRotation: 0 }, grid: { color: gridColor(theme) } }),
          y: this.yAxis(data, theme),
        },
        plugins: {
          legend: legend(theme, compact),
          tooltip: {
            ...tooltip(theme),
            callbacks: {
              title: (items: TooltipItem<'line'>[]) => pointTitle(data.layers[items[0]?.dataIndex ?? 0]),
              label: (item: TooltipItem<'line'>) => {
                const p = n(item);
                if (!p) return item.dataset.label ?? '';
                const err = errorName && p.error !== undefined ? ` ± ${formatValue(p.error)} ${errorName}` : '';
                return `${item.dataset.label}: ${formatValue(p.value)}${err} (n = ${p.n})`;
              },
            },
          },
        },
      },
    };
  }

}

/** Point -1 is the embedding output (charts of residual points, such as two-text distances, start there). */
function tickLabel(layer: number): string {
  return layer < 0 ? 'emb' : String(layer);
}

function pointTitle(layer: number | undefined): string {
  return layer === undefined ? '' : layer < 0 ? 'embedding output' : `layer ${layer}`;
}

/** A numeric x axis that reads like the category one: a tick and grid line per layer, half a layer of room at each end. */
function layerAxis(theme: Theme, layers: number[]) {
  const first = layers[0] ?? 0;
  const last = layers[layers.length - 1] ?? 0;
  return axis(theme, 'layer', {
    type: 'linear',
    grid: { color: gridColor(theme) },
    min: first - 0.5,
    max: last + 0.5,
    ticks: { color: theme.muted, font: fontOf(theme, 11), autoSkip: true, maxRotation: 0, callback: (value: number | string) => tickLabel(Number(value)) },
    // Linear ticks would start at min (-0.5); put exactly one tick on each layer instead.
    afterBuildTicks: (scale: { ticks: { value: number }[] }) => {
      scale.ticks = layers.map((value) => ({ value }));
    },
  });
}
