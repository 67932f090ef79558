/**
 * What every chart view shares: one Chart.js instance updated in place (no flicker on snapshots),
 * a theme-coloured background (so exported PNGs are not transparent), PNG export and disposal.
 */
import { Chart, type ChartConfiguration } from 'chart.js';
import type { ExportCaption } from '../../src/shared/exportCaption';
import type { Theme } from '../theme';
import type { ChartHandle } from './chartHandle';
import { backgroundColor } from './chartStyle';
import { composePng, EXPORT_SCALE } from './pngExport';
import { backgroundPlugin, setupCharts } from './setup';

export abstract class ThemedChart implements ChartHandle {
  private chart: Chart | undefined;
  /** Read by the background plugin at draw time: Chart.js keeps the plugins it was created with. */
  private theme: Theme | undefined;
  protected readonly background = backgroundPlugin(() => (this.theme ? backgroundColor(this.theme) : 'transparent'));

  constructor(
    readonly id: string,
    readonly canvas: HTMLCanvasElement,
  ) {
    setupCharts();
  }

  /** Draws `config` with `theme`, creating the chart on first use and updating it after. */
  protected draw(config: unknown, theme: Theme): void {
    this.theme = theme;
    const c = config as ChartConfiguration;
    if (!this.chart) {
      this.chart = new Chart(this.canvas, c);
      return;
    }
    this.chart.data = c.data as Chart['data'];
    this.chart.options = c.options as Chart['options'];
    this.chart.update('none');
  }

  /** Where an axis starts and ends as drawn, for tests (data-y-min / data-y-max on the canvas). */
  protected axisRange(id: string): { min: number; max: number } | undefined {
    const scale = this.chart?.scales[id];
    return scale ? { min: scale.min, max: scale.max } : undefined;
  }

  /** Redraws the chart at 2× for the image, then as it was on screen. */
  toPng(caption?: ExportCaption): string | undefined {
    const chart = this.chart;
    if (!chart || !this.theme) return undefined;
    const before = chart.options.devicePixelRatio;
    chart.options.devicePixelRatio = EXPORT_SCALE;
    chart.resize();
    try {
      return composePng(chart.canvas, caption, this.theme);
    } finally {
      chart.options.devicePixelRatio = before;
      chart.resize();
    }
  }

  destroy(): void {
    this.chart?.destroy();
    this.chart = undefined;
  }
}
