/**
 * The comparison chart: per layer, the difference of the metric (A − B) with its 95% confidence
 * interval, as horizontal bars ranked by p. Layers significant after the correction across layers
 * are drawn solid and marked ★ beside their label; the others are faint. A bar takes the colour
 * of the side that is higher there. Clicking a bar asks for that layer's texts.
 */
import type { TooltipItem } from 'chart.js';
import type { LayerComparison } from '../../src/core/compare/types';
import { comparisonLabel, metricLabel, qName, sideB } from '../../src/shared/comparisonData';
import { comparisonTooltip, describeComparison } from '../../src/shared/comparisonText';
import type { DifferenceView } from '../../src/shared/protocol';
import { withAlpha } from '../color';
import { seriesColor, type Theme } from '../theme';
import { ThemedChart } from './themedChart';
import { axis, fontOf, legend, tooltip } from './chartStyle';

/** Pixels per ranked layer; the canvas grows with the layer count so labels never collide. */
const ROW_HEIGHT = 20;
export const SIGNIFICANT_MARK = '★';

export interface DifferenceColors {
  a: number;
  /** Undefined for "the rest": it gets the theme's muted colour. */
  b: number | undefined;
}

export class DifferenceChartView extends ThemedChart {
  constructor(
    id: string,
    canvas: HTMLCanvasElement,
    private readonly box: HTMLElement,
    private readonly onLayer: (layer: number) => void,
  ) {
    super(id, canvas);
  }

  render(view: DifferenceView, rows: LayerComparison[], colors: DifferenceColors, theme: Theme): void {
    this.canvas.dataset.points = JSON.stringify({ [comparisonLabel(view)]: rows.length });
    this.canvas.dataset.significant = JSON.stringify(rows.filter((r) => r.significant).map((r) => r.layer).sort((x, y) => x - y));
    this.canvas.setAttribute('aria-label', describeComparison(view, rows));
    this.box.style.height = `${Math.max(180, rows.length * ROW_HEIGHT + 100)}px`;
    this.draw(this.config(view, rows, colors, theme), theme);
  }

  private config(view: DifferenceView, rows: LayerComparison[], colors: DifferenceColors, theme: Theme) {
    const colorA = seriesColor(theme, colors.a);
    const colorB = colors.b === undefined ? theme.muted : seriesColor(theme, colors.b);
    const side = (r: LayerComparison) => (r.diff >= 0 ? colorA : colorB);
    const q = qName(view);
    const whisker = theme.foreground;
    return {
      type: 'barWithErrorBars',
      data: {
        labels: rows.map((r) => (r.significant ? `${SIGNIFICANT_MARK} ${pointName(r.layer)}` : pointName(r.layer))),
        datasets: [
          {
            label: comparisonLabel(view),
            data: rows.map((r) => (r.ci95 ? { x: r.diff, xMin: r.ci95[0], xMax: r.ci95[1] } : { x: r.diff })),
            backgroundColor: rows.map((r) => withAlpha(side(r), r.significant ? 0.85 : 0.3)),
            borderColor: rows.map((r) => side(r)),
            borderWidth: rows.map((r) => (r.significant ? 2 : 1)),
            barPercentage: 0.8,
            categoryPercentage: 0.9,
            errorBarColor: whisker,
            errorBarWhiskerColor: whisker,
            errorBarLineWidth: 1.25,
            errorBarWhiskerLineWidth: 1.25,
            errorBarWhiskerSize: 6,
          },
        ],
      },
      plugins: [this.background],
      options: {
        indexAxis: 'y',
        layout: { padding: { right: 8 } },
        onClick: (_e: unknown, elements: { index: number }[]) => {
          const r = rows[elements[0]?.index ?? -1];
          if (r) this.onLayer(r.layer);
        },
        scales: {
          x: axis(theme, `difference of ${metricLabel(view.request.metric)} (${comparisonLabel(view)}), 95% confidence interval`),
          y: axis(theme, undefined, {
            ticks: { color: (ctx: { index: number }) => (rows[ctx.index]?.significant ? theme.foreground : theme.muted), font: (ctx: { index: number }) => ({ ...fontOf(theme, 11), weight: rows[ctx.index]?.significant ? 'bold' : 'normal' }), autoSkip: false },
            grid: { display: false },
          }),
        },
        plugins: {
          legend: {
            ...legend(theme),
            // Which side is higher, and what the mark means.
            labels: {
              ...legend(theme)?.labels,
              generateLabels: () => [
                { text: `${view.a} higher`, fillStyle: withAlpha(colorA, 0.85), strokeStyle: colorA, fontColor: theme.foreground, lineWidth: 1, pointStyle: 'rect', hidden: false },
                { text: `${sideB(view)} higher`, fillStyle: withAlpha(colorB, 0.85), strokeStyle: colorB, fontColor: theme.foreground, lineWidth: 1, pointStyle: 'rect', hidden: false },
                { text: `${SIGNIFICANT_MARK} solid: significant, ${q} ≤ ${view.alpha}; faint: not`, fillStyle: 'transparent', strokeStyle: theme.foreground, fontColor: theme.foreground, lineWidth: 1, pointStyle: 'line', hidden: false },
              ],
            },
            onClick: () => undefined,
          },
          tooltip: {
            ...tooltip(theme),
            callbacks: {
              title: (items: TooltipItem<'bar'>[]) => {
                const layer = rows[items[0]?.dataIndex ?? -1]?.layer;
                return layer === undefined ? '' : layer < 0 ? 'embedding output' : `layer ${layer}`;
              },
              label: (item: TooltipItem<'bar'>) => {
                const r = rows[item.dataIndex];
                return r ? comparisonTooltip(view, r) : '';
              },
            },
          },
        },
      },
    };
  }
}

/** A row's name: point -1 (a lens comparison's embedding output) reads "emb", the others "layer i". */
function pointName(layer: number): string {
  return layer < 0 ? 'emb' : `layer ${layer}`;
}
