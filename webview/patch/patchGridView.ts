/**
 * One activation-patching grid: a row per layer, a column per position of the corrupted text, each
 * cell the normalised effect on a diverging scale (blue below 0, neutral at 0, red above; the scale
 * reaches at least ±1 and the legend marks 0 and 1). Hovering a cell shows its exact effect.
 * Plain canvases like the heatmap; the grids are small (layers × tokens), so the whole grid is drawn.
 */
import type { ExportCaption } from '../../src/shared/exportCaption';
import { divergingPosition, type PatchGridView } from '../../src/shared/patchGrid';
import type { ChartHandle } from '../charts/chartHandle';
import { gridPng } from '../charts/pngExport';
import { divergingColor, formatColor, mix, parseColor, type Rgba } from '../color';
import { el } from '../dom';
import { fitText, sizeCanvas } from '../heatmap/paint';
import type { Theme } from '../theme';
import { CellHover } from '../grid/cellHover';

const CELL_WIDTH = 34;
const ROW_LABEL_WIDTH = 52;
const LABEL_GAP = 4;
const MAX_LABEL_HEIGHT = 130;
const LEGEND_WIDTH = 180;

/** The scale's ends and middle for a theme: RdBu-like, lighter ends on dark backgrounds so both sides stand out. */
export function patchScale(theme: Theme): { negative: Rgba; neutral: Rgba; positive: Rgba } {
  const light = theme.kind === 'light' || theme.kind === 'high-contrast-light';
  const fg = parseColor(theme.foreground) ?? { r: 128, g: 128, b: 128, a: 1 };
  return {
    negative: parseColor(light ? '#2166ac' : '#4d9de0')!,
    neutral: mix(theme.background, fg, light ? 0.06 : 0.1),
    positive: parseColor(light ? '#b2182b' : '#ef6f5e')!,
  };
}

interface Geometry {
  cellWidth: number;
  cellHeight: number;
  labelHeight: number;
  cellsHeight: number;
}

export class PatchGridCanvas implements ChartHandle {
  readonly id: string;
  readonly root: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly scroller: HTMLElement;
  private readonly tip: HTMLElement;
  private readonly legend = el('canvas', { class: 'patch-legend-bar', 'aria-hidden': 'true' });
  private readonly hover: CellHover;
  private grid: PatchGridView | undefined;
  private theme: Theme | undefined;
  private geo: Geometry | undefined;

  constructor(
    kind: string,
    private readonly describeCell: (grid: PatchGridView, row: number, col: number) => string,
  ) {
    this.id = `patch-${kind}`;
    this.canvas = el('canvas', { id: this.id, 'data-testid': this.id, role: 'img', class: 'patch-cells' });
    this.tip = el('div', { class: 'heatmap-tip', role: 'tooltip', 'data-testid': `${this.id}-tip`, hidden: true });
    this.scroller = el('div', { class: 'patch-scroll', tabindex: 0, 'aria-label': 'Patching grid, scroll sideways for more positions' }, this.canvas);
    this.root = el('div', { class: 'patch-grid' }, el('div', { class: 'heatmap-legend' }, this.legend), this.scroller, this.tip);
    this.hover = new CellHover(this.canvas, this.tip, this.root, {
      cellAt: (e) => {
        const { grid, geo } = this;
        if (!grid || !geo) return undefined;
        const col = Math.floor((e.offsetX - ROW_LABEL_WIDTH) / geo.cellWidth);
        const row = Math.floor(e.offsetY / geo.cellHeight);
        return e.offsetX >= ROW_LABEL_WIDTH && row >= 0 && row < grid.layers.length && col >= 0 && col < grid.labels.length ? { row, col } : undefined;
      },
      fillTip: (tip, cell) => {
        if (this.grid) tip.textContent = this.describeCell(this.grid, cell.row, cell.col);
      },
      // The whole grid is on one canvas (grids are small): repainted at once.
      repaint: () => this.draw(),
    });
  }

  render(grid: PatchGridView, description: string, theme: Theme): void {
    this.grid = grid;
    this.theme = theme;
    this.hover.reset();
    this.canvas.dataset.rows = String(grid.layers.length);
    this.canvas.dataset.cols = String(grid.labels.length);
    this.canvas.dataset.range = String(grid.range);
    this.canvas.setAttribute('aria-label', description);
    this.geo = this.geometry(grid, this.canvas.getContext('2d')!, theme);
    paintLegend(sizeCanvas(this.legend, LEGEND_WIDTH + 420, 28), grid, theme, 14, 0);
    this.draw();
  }

  private geometry(grid: PatchGridView, ctx: CanvasRenderingContext2D, theme: Theme, cellWidth = CELL_WIDTH): Geometry {
    const cellHeight = Math.max(10, Math.min(20, Math.round(320 / Math.max(1, grid.layers.length))));
    ctx.font = `11px ${theme.monoFamily}`;
    const widest = grid.labels.reduce((w, t) => Math.max(w, ctx.measureText(t).width), 0);
    return { cellWidth, cellHeight, labelHeight: Math.min(MAX_LABEL_HEIGHT, Math.ceil(widest) + LABEL_GAP * 2), cellsHeight: grid.layers.length * cellHeight };
  }

  private draw(): void {
    const { grid, theme, geo } = this;
    if (!grid || !theme || !geo) return;
    const ctx = sizeCanvas(this.canvas, ROW_LABEL_WIDTH + grid.labels.length * geo.cellWidth, geo.cellsHeight + geo.labelHeight);
    paintGrid(ctx, grid, geo, theme, this.hover.current);
  }

  toPng(caption?: ExportCaption): string | undefined {
    const { grid, theme } = this;
    if (!grid || !theme || grid.labels.length === 0) return undefined;
    const g = this.geometry(grid, document.createElement('canvas').getContext('2d')!, theme);
    const width = Math.max(ROW_LABEL_WIDTH + grid.labels.length * g.cellWidth, ROW_LABEL_WIDTH + LEGEND_WIDTH + 360);
    return gridPng({ width, legendHeight: 32, bodyHeight: g.cellsHeight + g.labelHeight }, theme, caption, {
      legend: (ctx) => paintLegend(ctx, grid, theme, ROW_LABEL_WIDTH, 2),
      body: (ctx) => paintGrid(ctx, grid, g, theme),
    });
  }

  destroy(): void {
    this.root.remove();
  }
}

function paintGrid(ctx: CanvasRenderingContext2D, grid: PatchGridView, g: Geometry, theme: Theme, hover?: { row: number; col: number }): void {
  const scale = patchScale(theme);
  grid.values.forEach((row, r) => {
    row.forEach((v, c) => {
      const t = divergingPosition(v, grid.range);
      if (Number.isNaN(t)) return;
      ctx.fillStyle = formatColor(divergingColor(scale.negative, scale.neutral, scale.positive, t));
      ctx.fillRect(ROW_LABEL_WIDTH + c * g.cellWidth, r * g.cellHeight, g.cellWidth - 1, g.cellHeight - 1);
    });
  });
  if (hover) {
    ctx.strokeStyle = theme.foreground;
    ctx.lineWidth = 1.5;
    ctx.strokeRect(ROW_LABEL_WIDTH + hover.col * g.cellWidth + 0.75, hover.row * g.cellHeight + 0.75, g.cellWidth - 2.5, g.cellHeight - 2.5);
  }
  // Layer names beside the rows, the axis name, and the tokens under the columns (positions where the texts differ in bold).
  ctx.font = `11px ${theme.fontFamily}`;
  ctx.fillStyle = theme.muted;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  const every = Math.ceil(12 / g.cellHeight);
  for (let r = 0; r < grid.layers.length; r += every) ctx.fillText(String(grid.layers[r]), ROW_LABEL_WIDTH - 6, r * g.cellHeight + g.cellHeight / 2);
  ctx.save();
  ctx.translate(10, g.cellsHeight / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = 'center';
  ctx.font = `12px ${theme.fontFamily}`;
  ctx.fillText('layer', 0, 0);
  ctx.restore();
  ctx.textAlign = 'right';
  grid.labels.forEach((label, c) => {
    ctx.save();
    ctx.font = `${grid.differs[c] ? 'bold ' : ''}11px ${theme.monoFamily}`;
    ctx.fillStyle = grid.differs[c] ? theme.foreground : theme.muted;
    ctx.translate(ROW_LABEL_WIDTH + c * g.cellWidth + g.cellWidth / 2, g.cellsHeight + LABEL_GAP);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(fitText(ctx, label, g.labelHeight - LABEL_GAP * 2), 0, 0);
    ctx.restore();
  });
}

/** The diverging bar from −range to +range with ticks at −1, 0 and 1 (1: the clean run's metric restored). */
function paintLegend(ctx: CanvasRenderingContext2D, grid: PatchGridView, theme: Theme, x: number, y: number): void {
  const scale = patchScale(theme);
  const w = LEGEND_WIDTH;
  for (let i = 0; i < w; i++) {
    ctx.fillStyle = formatColor(divergingColor(scale.negative, scale.neutral, scale.positive, (i / (w - 1)) * 2 - 1));
    ctx.fillRect(x + i, y + 2, 1, 10);
  }
  ctx.strokeStyle = theme.muted;
  ctx.strokeRect(x + 0.5, y + 2.5, w - 1, 9);
  ctx.font = `10px ${theme.fontFamily}`;
  ctx.textBaseline = 'top';
  ctx.textAlign = 'center';
  const at = (v: number) => x + ((v / grid.range + 1) / 2) * (w - 1);
  // The ends are labelled only when they stand clear of ±1; otherwise the scale's reach is said in words.
  const ends = grid.range >= 1.3 ? [-grid.range, grid.range] : [];
  for (const v of [...ends, -1, 0, 1]) {
    const px = at(v);
    ctx.strokeStyle = theme.foreground;
    ctx.fillStyle = v === 1 ? theme.foreground : theme.muted;
    ctx.beginPath();
    ctx.moveTo(px + 0.5, y + (v === 1 ? 0 : 10));
    ctx.lineTo(px + 0.5, y + 15);
    ctx.stroke();
    ctx.fillText(v === 1 ? '1 (clean)' : v === 0 ? '0' : String(Number(v.toPrecision(3))).replace('-', '−'), px, y + 16);
  }
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = theme.muted;
  ctx.font = `11px ${theme.fontFamily}`;
  const reach = grid.range > 1 && grid.range < 1.3 ? ` (scale ±${Number(grid.range.toPrecision(3))})` : '';
  ctx.fillText(`normalised effect: 0 = corrupted run, 1 = clean run${reach}`, x + w + 10, y + 7);
}
