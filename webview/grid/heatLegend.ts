/**
 * The heat scale's legend, as the token grids (heatmap, logit lens) show it: on screen a small
 * bar between its two ends' words, and in an exported PNG a wider bar followed by one line.
 */
import { formatColor, scaleColor } from '../color';
import { el } from '../dom';
import { sizeCanvas } from '../heatmap/paint';
import type { Theme } from '../theme';

const SCREEN_BAR = { width: 120, height: 10 };
const EXPORT_BAR = { width: 160, height: 10, top: 8 };

/** The heat scale as a bar, low on the left. */
function fillHeatBar(ctx: CanvasRenderingContext2D, theme: Theme, x: number, y: number, width: number, height: number): void {
  const gradient = ctx.createLinearGradient(x, 0, x + width, 0);
  for (let i = 0; i <= 10; i++) gradient.addColorStop(i / 10, formatColor(scaleColor(theme.heatStops, i / 10)));
  ctx.fillStyle = gradient;
  ctx.fillRect(x, y, width, height);
}

/** The on-screen legend: the bar between the words for its low and high ends. */
export class HeatLegend {
  private readonly bar = el('canvas', { class: 'heatmap-legend-bar', 'aria-hidden': 'true' });
  private readonly low = el('span', { class: 'heatmap-legend-value' });
  private readonly high = el('span', { class: 'heatmap-legend-value' });
  /** Low end, bar, high end, in order, for the view's legend row. */
  readonly parts: HTMLElement[] = [this.low, this.bar, this.high];

  paint(theme: Theme, low: string, high: string): void {
    fillHeatBar(sizeCanvas(this.bar, SCREEN_BAR.width, SCREEN_BAR.height), theme, 0, 0, SCREEN_BAR.width, SCREEN_BAR.height);
    this.low.textContent = low;
    this.high.textContent = high;
  }
}

/** An exported grid's legend band: the bar from `x`, then `text` (what its ends mean) beside it. */
export function paintExportHeatLegend(ctx: CanvasRenderingContext2D, theme: Theme, x: number, text: string): void {
  fillHeatBar(ctx, theme, x, EXPORT_BAR.top, EXPORT_BAR.width, EXPORT_BAR.height);
  ctx.font = `11px ${theme.fontFamily}`;
  ctx.fillStyle = theme.muted;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  ctx.fillText(text, x + EXPORT_BAR.width + 8, EXPORT_BAR.top + EXPORT_BAR.height / 2);
}
