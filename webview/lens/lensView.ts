/**
 * The logit lens grid of the last lensed selection, drawn as the heatmap is: a viewport-sized cells
 * canvas that sticks inside a scroller as wide as the text (scrolling repaints the visible columns),
 * row names on their own canvas. A select switches the shading between the top-1 probability and
 * the entropy; hovering a cell lists its top-k.
 */
import { lensCellLines, type LensGrid, type LensShade } from '../../src/shared/lensGrid';
import { FrameScheduler, visibleColumns } from '../grid/scrollWindow';
import type { ExportCaption } from '../../src/shared/exportCaption';
import type { ChartHandle } from '../charts/chartHandle';
import { EXPORT_SCALE, gridPng } from '../charts/pngExport';
import { formatColor, scaleColor } from '../color';
import { el } from '../dom';
import { sizeCanvas } from '../heatmap/paint';
import type { Theme } from '../theme';
import { LENS_CELL_WIDTH, LENS_ROW_LABEL_WIDTH, lensGeometry, paintLensCells, paintLensRowLabels, rowAt, type LensGeometry } from './paintLens';
import { placeTooltip } from '../grid/tooltip';

const MAX_EXPORT_WIDTH = 16000;

type Select = HTMLElement & { value: string };

export class LensView implements ChartHandle {
  readonly id = 'lens';
  readonly root: HTMLElement;
  readonly canvas = el('canvas', { id: 'lens', 'data-testid': 'lens', role: 'img', class: 'heatmap-cells' });
  private readonly rowLabels = el('canvas', { class: 'heatmap-rows', 'aria-hidden': 'true' });
  private readonly sizer = el('div', { class: 'heatmap-sizer' });
  private readonly scroller: HTMLElement;
  private readonly tip = el('div', { class: 'heatmap-tip lens-tip', role: 'tooltip', 'data-testid': 'lens-tip', hidden: true });
  private readonly legendBar = el('canvas', { class: 'heatmap-legend-bar', 'aria-hidden': 'true' });
  private readonly legendLow = el('span', { class: 'heatmap-legend-value' });
  private readonly legendHigh = el('span', { class: 'heatmap-legend-value' });
  private readonly label = el('span', { class: 'heatmap-label', 'data-testid': 'lens-label' });
  private readonly shadeSelect: Select;
  private grid: LensGrid | undefined;
  private theme: Theme | undefined;
  private shade: LensShade;
  private hover: { row: number; col: number } | undefined;
  private geo: LensGeometry | undefined;
  private readonly frames = new FrameScheduler(() => this.draw());

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
    this.sizer.append(this.canvas);
    this.scroller = el('div', { class: 'heatmap-scroll', tabindex: 0, 'aria-label': 'Logit lens grid, scroll sideways for more tokens' }, this.sizer);
    this.root = el(
      'div',
      { class: 'heatmap lens' },
      el(
        'div',
        { class: 'heatmap-legend' },
        this.label,
        el('vscode-label', { for: 'lens-shade' }, 'Shade by'),
        this.shadeSelect,
        this.legendLow,
        this.legendBar,
        this.legendHigh,
        el('span', { class: 'lens-marker', 'aria-hidden': 'true' }),
        el('span', {}, 'outlined: the layer predicts the actual next token'),
      ),
      el('div', { class: 'heatmap-frame' }, this.rowLabels, this.scroller),
      this.tip,
    );
    this.scroller.addEventListener('scroll', () => this.schedule());
    this.canvas.addEventListener('mousemove', (e) => this.onHover(e));
    this.canvas.addEventListener('mouseleave', () => this.setHover(undefined));
    new ResizeObserver(() => this.schedule()).observe(this.scroller);
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
    this.hover = undefined;
    this.tip.hidden = true;
    this.canvas.dataset.shade = this.shade;
    this.geo = lensGeometry(grid);
    this.sizer.style.width = `${grid.cols * this.geo.cellWidth}px`;
    this.paintLegend(grid, theme);
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
    paintLensCells(ctx, grid, geo, theme, { firstCol, endCol, originX: -left, shade: this.shade, hover: this.hover });
    paintLensRowLabels(sizeCanvas(this.rowLabels, LENS_ROW_LABEL_WIDTH, height), grid, geo, theme);
  }

  private scaleEnds(grid: LensGrid): [string, string] {
    return this.shade === 'probability' ? ['p 0', 'p 1'] : ['0 nats', `${grid.maxEntropy.toFixed(2)} nats`];
  }

  private paintLegend(grid: LensGrid, theme: Theme): void {
    const ctx = sizeCanvas(this.legendBar, 120, 10);
    const gradient = ctx.createLinearGradient(0, 0, 120, 0);
    for (let i = 0; i <= 10; i++) gradient.addColorStop(i / 10, formatColor(scaleColor(theme.heatStops, i / 10)));
    ctx.fillStyle = gradient;
    ctx.fillRect(0, 0, 120, 10);
    [this.legendLow.textContent, this.legendHigh.textContent] = this.scaleEnds(grid);
  }

  private onHover(e: MouseEvent): void {
    const { grid, geo } = this;
    if (!grid || !geo) return;
    const col = Math.floor((e.offsetX + this.scroller.scrollLeft) / geo.cellWidth);
    const row = rowAt(grid, geo, e.offsetY);
    this.setHover(row >= 0 && col >= 0 && col < grid.cols ? { row, col } : undefined, e);
  }

  private setHover(hover: { row: number; col: number } | undefined, e?: MouseEvent): void {
    const changed = hover?.row !== this.hover?.row || hover?.col !== this.hover?.col;
    this.hover = hover;
    if (!hover || !this.grid || !e) {
      this.tip.hidden = true;
    } else {
      if (changed) {
        const lines = lensCellLines(this.grid, hover.row, hover.col);
        this.tip.replaceChildren(...lines.map((line, i) => el('div', { class: i === 0 ? 'lens-tip-head' : undefined }, line)));
      }
      this.tip.hidden = false;
      placeTooltip(this.tip, this.root, e);
    }
    if (changed) this.schedule();
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
        const x = LENS_ROW_LABEL_WIDTH;
        const gradient = ctx.createLinearGradient(x, 0, x + 160, 0);
        for (let i = 0; i <= 10; i++) gradient.addColorStop(i / 10, formatColor(scaleColor(theme.heatStops, i / 10)));
        ctx.fillStyle = gradient;
        ctx.fillRect(x, 8, 160, 10);
        ctx.font = `11px ${theme.fontFamily}`;
        ctx.fillStyle = theme.muted;
        ctx.textBaseline = 'middle';
        ctx.textAlign = 'left';
        const [low, high] = this.scaleEnds(grid);
        ctx.fillText(`${this.shade === 'probability' ? 'top-1 probability' : 'entropy'}: ${low}  →  ${high}; outlined: the actual next token`, x + 168, 13);
      },
      body: (ctx) => {
        paintLensRowLabels(ctx, grid, g, theme);
        paintLensCells(ctx, grid, g, theme, { firstCol: 0, endCol: grid.cols, originX: LENS_ROW_LABEL_WIDTH, shade: this.shade });
      },
    });
  }

  destroy(): void {
    this.frames.cancel();
    this.root.remove();
  }
}
