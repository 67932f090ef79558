/**
 * What every chart view shares: one Chart.js instance updated in place (no flicker on snapshots),
 * a theme-coloured background (so exported PNGs are not transparent), PNG export and disposal.
 */
import { Chart, type ChartConfiguration } from 'chart.js';
import type { Theme } from '../theme';
import type { ChartHandle } from './chartHandle';
import { backgroundColor } from './chartStyle';
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

  toPng(): string | undefined {
    return this.chart?.toBase64Image('image/png');
  }

  destroy(): void {
    this.chart?.destroy();
    this.chart = undefined;
  }
}
