/**
 * The token × layer heatmap of the last profiled selection, on plain canvases (no extra library).
 * The cells canvas is as wide as the viewport and sticks to it inside a scroller as wide as the
 * whole text: scrolling repaints the visible columns, so a text of any length stays within the
 * browser's canvas size limits. Row labels sit on their own canvas and stay put.
 */
import { formatValue } from '../../src/shared/chartText';
import type { HeatmapGrid } from '../../src/shared/chartData';
import { el } from '../dom';
import type { ChartHandle } from '../charts/chartHandle';
import { EXPORT_SCALE, gridPng } from '../charts/pngExport';
import type { ExportCaption } from '../../src/shared/exportCaption';
import type { Theme } from '../theme';
import { CellHover } from '../grid/cellHover';
import { HeatLegend, paintExportHeatLegend } from '../grid/heatLegend';
import { ScrolledCells } from '../grid/scrolledCells';
import { CELL_WIDTH, geometry, paintCells, paintRowLabels, ROW_LABEL_WIDTH, sizeCanvas, type HeatmapGeometry } from './paint';

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
  private readonly cells: ScrolledCells;
  private readonly tip = el('div', { class: 'heatmap-tip', role: 'tooltip', hidden: true });
  private readonly legend = new HeatLegend();
  private readonly label = el('span', { class: 'heatmap-label' });
  private readonly hover: CellHover;
  private grid: HeatmapGrid | undefined;
  private theme: Theme | undefined;
  private perLayer = true;
  private geo: HeatmapGeometry | undefined;

  private readonly describeCell: (row: number, col: number) => string;

  constructor(legendExtra: HTMLElement, options?: HeatmapViewOptions) {
    this.id = options?.id ?? 'heatmap';
    this.canvas = el('canvas', { id: this.id, 'data-testid': this.id, role: 'img', class: 'heatmap-cells' });
    this.describeCell = options?.describeCell ?? ((row, col) => `token ${col} “${this.grid?.labels[col]}” · layer ${row} · abs mean ${formatValue(this.grid?.values[row]?.[col])}`);
    this.label.dataset.testid = `${this.id}-label`;
    this.tip.dataset.testid = `${this.id}-tip`;
    this.cells = new ScrolledCells(this.canvas, 'Heatmap, scroll sideways for more tokens', () => this.draw());
    this.root = el('div', { class: 'heatmap' }, el('div', { class: 'heatmap-legend' }, this.label, ...this.legend.parts, legendExtra), this.cells.frame, this.tip);
    this.hover = new CellHover(this.canvas, this.tip, this.root, {
      cellAt: (e) => {
        const { grid, geo } = this;
        if (!grid || !geo) return undefined;
        const col = this.cells.columnAt(e, geo.cellWidth);
        const row = Math.floor(e.offsetY / geo.cellHeight);
        return row >= 0 && row < grid.rows && col >= 0 && col < grid.cols ? { row, col } : undefined;
      },
      fillTip: (tip, cell) => (tip.textContent = this.describeCell(cell.row, cell.col)),
      repaint: () => this.cells.schedule(),
    });
  }

  render(grid: HeatmapGrid, label: string, description: string, theme: Theme, perLayer: boolean): void {
    this.label.textContent = label;
    this.grid = grid;
    this.theme = theme;
    this.perLayer = perLayer;
    this.hover.reset();
    this.canvas.dataset.rows = String(grid.rows);
    this.canvas.dataset.cols = String(grid.cols);
    this.canvas.setAttribute('aria-label', description);
    this.geo = geometry(grid, this.cells.rowLabels.getContext('2d')!, theme);
    this.cells.setContentWidth(grid.cols * this.geo.cellWidth);
    this.legend.paint(theme, perLayer ? 'lowest in its layer' : formatValue(grid.min), perLayer ? 'highest in its layer' : formatValue(grid.max));
    this.draw();
  }

  private draw(): void {
    const { grid, theme, geo } = this;
    if (!grid || !theme || !geo) return;
    const height = geo.cellsHeight + geo.labelHeight;
    const { width, left, firstCol, endCol } = this.cells.visible(grid.cols, geo.cellWidth);
    const ctx = sizeCanvas(this.canvas, width, height);
    paintCells(ctx, grid, geo, theme, { firstCol, endCol, originX: -left, perLayer: this.perLayer, hover: this.hover.current });
    paintRowLabels(sizeCanvas(this.cells.rowLabels, ROW_LABEL_WIDTH, height), grid, geo, theme);
  }

  /** The whole text at 2× (narrower cells past MAX_EXPORT_WIDTH), with the colour legend and the caption. */
  toPng(caption?: ExportCaption): string | undefined {
    const { grid, theme } = this;
    if (!grid || !theme || grid.cols === 0) return undefined;
    const cellWidth = Math.max(2, Math.min(CELL_WIDTH, Math.floor((MAX_EXPORT_WIDTH / EXPORT_SCALE - ROW_LABEL_WIDTH) / grid.cols)));
    const g = geometry(grid, document.createElement('canvas').getContext('2d')!, theme, cellWidth);
    const width = Math.max(ROW_LABEL_WIDTH + grid.cols * cellWidth, 360);
    return gridPng({ width, legendHeight: 28, bodyHeight: g.cellsHeight + g.labelHeight }, theme, caption, {
      legend: (ctx) => {
        const low = this.perLayer ? 'lowest in its layer' : formatValue(grid.min);
        const high = this.perLayer ? 'highest in its layer (log scale)' : `${formatValue(grid.max)} (log scale)`;
        paintExportHeatLegend(ctx, theme, ROW_LABEL_WIDTH, `${low}  →  ${high}`);
      },
      body: (ctx) => {
        paintRowLabels(ctx, grid, g, theme);
        paintCells(ctx, grid, g, theme, { firstCol: 0, endCol: grid.cols, originX: ROW_LABEL_WIDTH, perLayer: this.perLayer });
      },
    });
  }

  destroy(): void {
    this.cells.cancel();
    this.root.remove();
  }
}
