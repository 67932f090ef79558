/**
 * The logit lens grid of the last lensed selection, drawn as the heatmap is: a viewport-sized cells
 * canvas that sticks inside a scroller as wide as the text (scrolling repaints the visible columns),
 * row names on their own canvas. A select switches the shading between the top-1 probability and
 * the entropy; hovering a cell lists its top-k.
 */
import { lensCellLines, type LensGrid, type LensShade } from '../../src/shared/lensGrid';
import type { ExportCaption } from '../../src/shared/exportCaption';
import type { ChartHandle } from '../charts/chartHandle';
import { EXPORT_SCALE, gridPng } from '../charts/pngExport';
import { el } from '../dom';
import { CellHover } from '../grid/cellHover';
import { HeatLegend, paintExportHeatLegend } from '../grid/heatLegend';
import { ScrolledCells } from '../grid/scrolledCells';
import { sizeCanvas } from '../heatmap/paint';
import type { Theme } from '../theme';
import { LENS_CELL_WIDTH, LENS_ROW_LABEL_WIDTH, lensGeometry, paintLensCells, paintLensRowLabels, rowAt, type LensGeometry } from './paintLens';

const MAX_EXPORT_WIDTH = 16000;

type Select = HTMLElement & { value: string };

export class LensView implements ChartHandle {
  readonly id = 'lens';
  readonly root: HTMLElement;
  readonly canvas = el('canvas', { id: 'lens', 'data-testid': 'lens', role: 'img', class: 'heatmap-cells' });
  private readonly cells: ScrolledCells;
  private readonly tip = el('div', { class: 'heatmap-tip lens-tip', role: 'tooltip', 'data-testid': 'lens-tip', hidden: true });
  private readonly legend = new HeatLegend();
  private readonly label = el('span', { class: 'heatmap-label', 'data-testid': 'lens-label' });
  private readonly hover: CellHover;
  private readonly shadeSelect: Select;
  private grid: LensGrid | undefined;
  private theme: Theme | undefined;
  private shade: LensShade;
  private geo: LensGeometry | undefined;

  constructor(shade: LensShade, onShade: (shade: LensShade) => void) {
    this.shade = shade;
    this.shadeSelect = el('vscode-single-select', { id: 'lens-shade', 'data-testid': 'lens-shade', 'data-focus-key': 'lens-shade', 'aria-label': 'Shade cells by' }) as Select;
    this.shadeSelect.append(el('vscode-option', { value: 'probability', selected: shade === 'probability' }, 'top-1 probability'), el('vscode-option', { value: 'entropy', selected: shade === 'entropy' }, 'entropy'));
    this.shadeSelect.addEventListener('change', () => {
      const next: LensShade = this.shadeSelect.value === 'entropy' ? 'entropy' : 'probability';
      if (next === this.shade) return;
      this.shade = next;
      onShade(next);
      this.rerender();
    });
    this.cells = new ScrolledCells(this.canvas, 'Logit lens grid, scroll sideways for more tokens', () => this.draw());
    this.root = el(
      'div',
      { class: 'heatmap lens' },
      el(
        'div',
        { class: 'heatmap-legend' },
        this.label,
        el('vscode-label', { for: 'lens-shade' }, 'Shade by'),
        this.shadeSelect,
        ...this.legend.parts,
        el('span', { class: 'lens-marker', 'aria-hidden': 'true' }),
        el('span', {}, 'outlined: the layer predicts the actual next token'),
      ),
      this.cells.frame,
      this.tip,
    );
    this.hover = new CellHover(this.canvas, this.tip, this.root, {
      cellAt: (e) => {
        const { grid, geo } = this;
        if (!grid || !geo) return undefined;
        const col = this.cells.columnAt(e, geo.cellWidth);
        const row = rowAt(grid, geo, e.offsetY);
        return row >= 0 && col >= 0 && col < grid.cols ? { row, col } : undefined;
      },
      // The top-k list is rebuilt only when the pointer reaches another cell.
      fillTip: (tip, cell, changed) => {
        if (changed && this.grid) tip.replaceChildren(...lensCellLines(this.grid, cell.row, cell.col).map((line, i) => el('div', { class: i === 0 ? 'lens-tip-head' : undefined }, line)));
      },
      repaint: () => this.cells.schedule(),
    });
  }

  get shading(): LensShade {
    return this.shade;
  }

  render(grid: LensGrid, label: string, description: string, theme: Theme): void {
    this.label.textContent = label;
    this.grid = grid;
    this.theme = theme;
    this.canvas.dataset.rows = String(grid.rows);
    this.canvas.dataset.cols = String(grid.cols);
    this.canvas.dataset.correct = String(grid.cells.reduce((n, row) => n + row.filter((c) => c.correct).length, 0));
    this.canvas.setAttribute('aria-label', description);
    this.rerender();
  }

  private rerender(): void {
    const { grid, theme } = this;
    if (!grid || !theme) return;
    this.hover.reset();
    this.canvas.dataset.shade = this.shade;
    this.geo = lensGeometry(grid);
    this.cells.setContentWidth(grid.cols * this.geo.cellWidth);
    this.legend.paint(theme, ...this.scaleEnds(grid));
    this.draw();
  }

  private draw(): void {
    const { grid, theme, geo } = this;
    if (!grid || !theme || !geo) return;
    const height = geo.cellsHeight + geo.labelHeight;
    const { width, left, firstCol, endCol } = this.cells.visible(grid.cols, geo.cellWidth);
    const ctx = sizeCanvas(this.canvas, width, height);
    paintLensCells(ctx, grid, geo, theme, { firstCol, endCol, originX: -left, shade: this.shade, hover: this.hover.current });
    paintLensRowLabels(sizeCanvas(this.cells.rowLabels, LENS_ROW_LABEL_WIDTH, height), grid, geo, theme);
  }

  private scaleEnds(grid: LensGrid): [string, string] {
    return this.shade === 'probability' ? ['p 0', 'p 1'] : ['0 nats', `${grid.maxEntropy.toFixed(2)} nats`];
  }

  /** The whole text at 2× (narrower cells past MAX_EXPORT_WIDTH), with the colour legend and the caption. */
  toPng(caption?: ExportCaption): string | undefined {
    const { grid, theme } = this;
    if (!grid || !theme || grid.cols === 0) return undefined;
    const cellWidth = Math.max(4, Math.min(LENS_CELL_WIDTH, Math.floor((MAX_EXPORT_WIDTH / EXPORT_SCALE - LENS_ROW_LABEL_WIDTH) / grid.cols)));
    const g = lensGeometry(grid, cellWidth);
    const width = Math.max(LENS_ROW_LABEL_WIDTH + grid.cols * cellWidth, 420);
    return gridPng({ width, legendHeight: 28, bodyHeight: g.cellsHeight + g.labelHeight }, theme, caption, {
      legend: (ctx) => {
        const [low, high] = this.scaleEnds(grid);
        paintExportHeatLegend(ctx, theme, LENS_ROW_LABEL_WIDTH, `${this.shade === 'probability' ? 'top-1 probability' : 'entropy'}: ${low}  →  ${high}; outlined: the actual next token`);
      },
      body: (ctx) => {
        paintLensRowLabels(ctx, grid, g, theme);
        paintLensCells(ctx, grid, g, theme, { firstCol: 0, endCol: grid.cols, originX: LENS_ROW_LABEL_WIDTH, shade: this.shade });
      },
    });
  }

  destroy(): void {
    this.cells.cancel();
    this.root.remove();
  }
}
