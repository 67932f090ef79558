/**
 * The comparison chart: per layer, abs mean of A minus abs mean of B with ± its standard error,
 * as horizontal bars ranked by |difference| / SE, so the layers that react most differently to
 * the two datasets come first. A bar takes the colour of the dataset that changes more there.
 */
import type { TooltipItem } from 'chart.js';
import { differenceLabel, type ComparisonPair, type DifferenceRow } from '../../shared/chartData';
import { describeDifference, formatValue } from '../../shared/chartText';
import { withAlpha } from '../color';
import { seriesColor, type Theme } from '../theme';
import { ThemedChart } from './themedChart';
import { axis, fontOf, legend, tooltip } from './chartStyle';

/** Pixels per ranked layer; the canvas grows with the layer count so labels never collide. */
const ROW_HEIGHT = 18;

export interface DifferenceColors {
  a: number;
  b: number;
}

export class DifferenceChartView extends ThemedChart {
  constructor(
    id: string,
    canvas: HTMLCanvasElement,
    private readonly box: HTMLElement,
  ) {
    super(id, canvas);
  }

  render(pair: ComparisonPair, rows: DifferenceRow[], colors: DifferenceColors, theme: Theme): void {
    this.canvas.dataset.points = JSON.stringify({ [differenceLabel(pair)]: rows.length });
    this.canvas.setAttribute('aria-label', describeDifference(pair, rows));
    this.box.style.height = `${Math.max(160, rows.length * ROW_HEIGHT + 90)}px`;
    const config = this.config(pair, rows, colors, theme);
    this.draw(config, theme);
  }

  private config(pair: ComparisonPair, rows: DifferenceRow[], colors: DifferenceColors, theme: Theme) {
    const colorA = seriesColor(theme, colors.a);
    const colorB = seriesColor(theme, colors.b);
    const barColor = rows.map((r) => withAlpha(r.diff >= 0 ? colorA : colorB, 0.75));
    const whisker = theme.foreground;
    return {
      type: 'barWithErrorBars',
      data: {
        labels: rows.map((r) => `layer ${r.layer}`),
        datasets: [
          {
            label: differenceLabel(pair),
            data: rows.map((r) => (r.se !== undefined ? { x: r.diff, xMin: r.diff - r.se, xMax: r.diff + r.se } : { x: r.diff })),
            backgroundColor: barColor,
            borderColor: rows.map((r) => (r.diff >= 0 ? colorA : colorB)),
            borderWidth: 1,
            barPercentage: 0.8,
            categoryPercentage: 0.9,
            errorBarColor: whisker,
            errorBarWhiskerColor: whisker,
            errorBarLineWidth: 1,
            errorBarWhiskerLineWidth: 1,
            errorBarWhiskerSize: 6,
          },
        ],
      },
      plugins: [this.background],
      options: {
        indexAxis: 'y',
        layout: { padding: { right: 8 } },
        scales: {
          x: axis(theme, `difference of absolute means (${pair.a} − ${pair.b}) ± standard error`),
          y: axis(theme, undefined, { ticks: { color: theme.foreground, font: fontOf(theme, 11), autoSkip: false }, grid: { display: false } }),
        },
        plugins: {
          legend: {
            ...legend(theme),
            // One legend entry per direction: which dataset's layer changes the stream more.
            labels: {
              ...legend(theme)?.labels,
              generateLabels: () => [
                { text: `${pair.a} higher`, fillStyle: withAlpha(colorA, 0.75), strokeStyle: colorA, fontColor: theme.foreground, lineWidth: 1, pointStyle: 'rect', hidden: false },
                { text: `${pair.b} higher`, fillStyle: withAlpha(colorB, 0.75), strokeStyle: colorB, fontColor: theme.foreground, lineWidth: 1, pointStyle: 'rect', hidden: false },
              ],
            },
            onClick: () => undefined,
          },
          tooltip: {
            ...tooltip(theme),
            callbacks: {
              label: (item: TooltipItem<'bar'>) => {
                const r = rows[item.dataIndex];
                if (!r) return '';
                const se = r.se !== undefined ? ` ± ${formatValue(r.se)}` : ' (no standard error: a dataset has one text)';
                const z = r.z !== undefined ? `, ${formatValue(r.z)} standard errors` : '';
                return `${pair.a} − ${pair.b}: ${formatValue(r.diff)}${se}${z}`;
              },
            },
          },
        },
      },
    };
  }

}
