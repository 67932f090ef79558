/**
 * The token × layer heatmap of the last profiled selection, on plain canvases (no extra library).
 * The cells canvas is as wide as the viewport and sticks to it inside a scroller as wide as the
 * whole text: scrolling repaints the visible columns, so a text of any length stays within the
 * browser's canvas size limits. Row labels sit on their own canvas and stay put.
 */
import { formatValue } from '../../src/shared/chartText';
import { FrameScheduler, visibleColumns } from '../grid/scrollWindow';
import type { HeatmapGrid } from '../../src/shared/chartData';
import { formatColor, scaleColor } from '../color';
import { el } from '../dom';
import type { ChartHandle } from '../charts/chartHandle';
import { EXPORT_SCALE, gridPng } from '../charts/pngExport';
import type { ExportCaption } from '../../src/shared/exportCaption';
import type { Theme } from '../theme';
import { CELL_WIDTH, geometry, paintCells, paintRowLabels, ROW_LABEL_WIDTH, sizeCanvas, type HeatmapGeometry } from './paint';
import { placeTooltip } from '../grid/tooltip';

/** Widest PNG export; wider texts are exported with narrower cells. */
const MAX_EXPORT_WIDTH = 16000;

/** What differs between the token grids that share this view: their ids and what a hovered cell says. */
export interface HeatmapViewOptions {
  id: string;
  describeCell: (row: number, col: number) => string;
}

export class HeatmapView implements ChartHandle {
  readonly id: string;
  readonly root: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly rowLabels = el('canvas', { class: 'heatmap-rows', 'aria-hidden': 'true' });
  private readonly sizer = el('div', { class: 'heatmap-sizer' });
  private readonly scroller: HTMLElement;
  private readonly tip = el('div', { class: 'heatmap-tip', role: 'tooltip', hidden: true });
  private readonly legendBar = el('canvas', { class: 'heatmap-legend-bar', 'aria-hidden': 'true' });
  private readonly legendLow = el('span', { class: 'heatmap-legend-value' });
  private readonly legendHigh = el('span', { class: 'heatmap-legend-value' });
  private readonly label = el('span', { class: 'heatmap-label' });
  private grid: HeatmapGrid | undefined;
  private theme: Theme | undefined;
  private perLayer = true;
  private hover: { row: number; col: number } | undefined;
  private geo: HeatmapGeometry | undefined;
  private readonly frames = new FrameScheduler(() => this.draw());

  private readonly describeCell: (row: number, col: number) => string;

  constructor(legendExtra: HTMLElement, options?: HeatmapViewOptions) {
    this.id = options?.id ?? 'heatmap';
    this.canvas = el('canvas', { id: this.id, 'data-testid': this.id, role: 'img', class: 'heatmap-cells' });
    this.describeCell = options?.describeCell ?? ((row, col) => `token ${col} “${this.grid?.labels[col]}” · layer ${row} · abs mean ${formatValue(this.grid?.values[row]?.[col])}`);
    this.label.dataset.testid = `${this.id}-label`;
    this.tip.dataset.testid = `${this.id}-tip`;
    this.sizer.append(this.canvas);
    // Focusable so keyboard users can scroll a long text with the arrow keys.
    this.scroller = el('div', { class: 'heatmap-scroll', tabindex: 0, 'aria-label': 'Heatmap, scroll sideways for more tokens' }, this.sizer);
    this.root = el(
      'div',
      { class: 'heatmap' },
      el('div', { class: 'heatmap-legend' }, this.label, this.legendLow, this.legendBar, this.legendHigh, legendExtra),
      el('div', { class: 'heatmap-frame' }, this.rowLabels, this.scroller),
      this.tip,
    );
    this.scroller.addEventListener('scroll', () => this.schedule());
    this.canvas.addEventListener('mousemove', (e) => this.onHover(e));
    this.canvas.addEventListener('mouseleave', () => this.setHover(undefined));
    new ResizeObserver(() => this.schedule()).observe(this.scroller);
  }

  render(grid: HeatmapGrid, label: string, description: string, theme: Theme, perLayer: boolean): void {
    this.label.textContent = label;
    this.grid = grid;
    this.theme = theme;
    this.perLayer = perLayer;
    this.hover = undefined;
    this.canvas.dataset.rows = String(grid.rows);
    this.canvas.dataset.cols = String(grid.cols);
    this.canvas.setAttribute('aria-label', description);
    this.geo = geometry(grid, this.rowLabels.getContext('2d')!, theme);
    this.sizer.style.width = `${grid.cols * this.geo.cellWidth}px`;
    this.paintLegend(grid, theme, perLayer);
    this.draw();
  }

  private schedule(): void {
    this.frames.schedule();
  }

  private draw(): void {
    const { grid, theme, geo } = this;
    if (!grid || !theme || !geo) return;
    const height = geo.cellsHeight + geo.labelHeight;
    const { width, left, firstCol, endCol } = visibleColumns(this.scroller, grid.cols, geo.cellWidth);
    const ctx = sizeCanvas(this.canvas, width, height);
    paintCells(ctx, grid, geo, theme, { firstCol, endCol, originX: -left, perLayer: this.perLayer, hover: this.hover });
    paintRowLabels(sizeCanvas(this.rowLabels, ROW_LABEL_WIDTH, height), grid, geo, theme);
  }

  private paintLegend(grid: HeatmapGrid, theme: Theme, perLayer: boolean): void {
    const ctx = sizeCanvas(this.legendBar, 120, 10);
    const gradient = ctx.createLinearGradient(0, 0, 120, 0);
    for (let i = 0; i <= 10; i++) gradient.addColorStop(i / 10, formatColor(scaleColor(theme.heatStops, i / 10)));
    ctx.fillStyle = gradient;
    ctx.fillRect(0, 0, 120, 10);
    this.legendLow.textContent = perLayer ? 'lowest in its layer' : formatValue(grid.min);
    this.legendHigh.textContent = perLayer ? 'highest in its layer' : formatValue(grid.max);
  }

  private onHover(e: MouseEvent): void {
    const { grid, geo } = this;
    if (!grid || !geo) return;
    const left = this.scroller.scrollLeft;
    const col = Math.floor((e.offsetX + left) / geo.cellWidth);
    const row = Math.floor(e.offsetY / geo.cellHeight);
    this.setHover(row >= 0 && row < grid.rows && col >= 0 && col < grid.cols ? { row, col } : undefined, e);
  }

  private setHover(hover: { row: number; col: number } | undefined, e?: MouseEvent): void {
    const changed = hover?.row !== this.hover?.row || hover?.col !== this.hover?.col;
    this.hover = hover;
    if (!hover || !this.grid || !e) {
      this.tip.hidden = true;
    } else {
      this.tip.textContent = this.describeCell(hover.row, hover.col);
      this.tip.hidden = false;
      placeTooltip(this.tip, this.root, e);
    }
    if (changed) this.schedule();
  }

  /** The whole text at 2× (narrower cells past MAX_EXPORT_WIDTH), with the colour legend and the caption. */
  toPng(caption?: ExportCaption): string | undefined {
    const { grid, theme } = this;
    if (!grid || !theme || grid.cols === 0) return undefined;
    const cellWidth = Math.max(2, Math.min(CELL_WIDTH, Math.floor((MAX_EXPORT_WIDTH / EXPORT_SCALE - ROW_LABEL_WIDTH) / grid.cols)));
    const g = geometry(grid, document.createElement('canvas').getContext('2d')!, theme, cellWidth);
    const width = Math.max(ROW_LABEL_WIDTH + grid.cols * cellWidth, 360);
    return gridPng({ width, legendHeight: 28, bodyHeight: g.cellsHeight + g.labelHeight }, theme, caption, {
      legend: (ctx) => this.paintExportLegend(ctx, grid, theme, ROW_LABEL_WIDTH, 8),
      body: (ctx) => {
        paintRowLabels(ctx, grid, g, theme);
        paintCells(ctx, grid, g, theme, { firstCol: 0, endCol: grid.cols, originX: ROW_LABEL_WIDTH, perLayer: this.perLayer });
      },
    });
  }

  private paintExportLegend(ctx: CanvasRenderingContext2D, grid: HeatmapGrid, theme: Theme, x: number, y: number): void {
    const w = 160;
    const gradient = ctx.createLinearGradient(x, 0, x + w, 0);
    for (let i = 0; i <= 10; i++) gradient.addColorStop(i / 10, formatColor(scaleColor(theme.heatStops, i / 10)));
    ctx.fillStyle = gradient;
    ctx.fillRect(x, y, w, 10);
    ctx.font = `11px ${theme.fontFamily}`;
    ctx.fillStyle = theme.muted;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    const low = this.perLayer ? 'lowest in its layer' : formatValue(grid.min);
    const high = this.perLayer ? 'highest in its layer (log scale)' : `${formatValue(grid.max)} (log scale)`;
    ctx.fillText(`${low}  →  ${high}`, x + w + 8, y + 5);
  }

  destroy(): void {
    this.frames.cancel();
    this.root.remove();
  }
}
