/**
 * Paints the token × layer heatmap onto a 2D context. Used for the on-screen viewport (only the
 * visible columns, so a long text costs no more than a short one) and for the full PNG export.
 */
import { heatPosition, type HeatmapGrid } from '../../src/shared/chartData';
import { formatColor, scaleColor, withAlpha } from '../color';
import type { Theme } from '../theme';

export const CELL_WIDTH = 22;
export const ROW_LABEL_WIDTH = 52;
const MAX_LABEL_HEIGHT = 110;
const LABEL_GAP = 4;

export interface HeatmapGeometry {
  cellWidth: number;
  cellHeight: number;
  /** Height of the rotated token labels under the cells. */
  labelHeight: number;
  /** Height of the cells, rows × cellHeight. */
  cellsHeight: number;
}

export function geometry(grid: HeatmapGrid, ctx: CanvasRenderingContext2D, theme: Theme, cellWidth = CELL_WIDTH): HeatmapGeometry {
  // Fewer, taller rows for small models; many layers shrink rows so the map stays on screen.
  const cellHeight = Math.max(8, Math.min(18, Math.round(380 / Math.max(1, grid.rows))));
  ctx.font = tokenFont(theme);
  const widest = grid.labels.reduce((w, t) => Math.max(w, ctx.measureText(t).width), 0);
  const labelHeight = cellWidth >= 10 ? Math.min(MAX_LABEL_HEIGHT, Math.ceil(widest) + LABEL_GAP * 2) : LABEL_GAP;
  return { cellWidth, cellHeight, labelHeight, cellsHeight: grid.rows * cellHeight };
}

function tokenFont(theme: Theme): string {
  return `11px ${theme.monoFamily}`;
}

export interface PaintRange {
  firstCol: number;
  /** Exclusive. */
  endCol: number;
  /** X of column 0 on the context (negative when scrolled). */
  originX: number;
  perLayer: boolean;
  hover?: { row: number; col: number };
}

export function paintCells(ctx: CanvasRenderingContext2D, grid: HeatmapGrid, g: HeatmapGeometry, theme: Theme, range: PaintRange): void {
  const gap = g.cellWidth >= 6 && g.cellHeight >= 6 ? 1 : 0;
  for (let c = range.firstCol; c < range.endCol; c++) {
    const x = range.originX + c * g.cellWidth;
    if (grid.gapColumns?.[c]) {
      paintGap(ctx, x, g.cellWidth - gap, g.cellsHeight - gap, theme);
      continue;
    }
    for (let r = 0; r < grid.rows; r++) {
      const t = heatPosition(grid, r, c, range.perLayer);
      if (Number.isNaN(t)) continue;
      ctx.fillStyle = formatColor(scaleColor(theme.heatStops, t));
      ctx.fillRect(x, r * g.cellHeight, g.cellWidth - gap, g.cellHeight - gap);
    }
  }
  if (range.hover) {
    ctx.strokeStyle = theme.foreground;
    ctx.lineWidth = 1.5;
    ctx.strokeRect(range.originX + range.hover.col * g.cellWidth + 0.75, range.hover.row * g.cellHeight + 0.75, g.cellWidth - gap - 1.5, g.cellHeight - gap - 1.5);
  }
  if (g.cellWidth < 10) return;
  ctx.font = tokenFont(theme);
  ctx.fillStyle = theme.foreground;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let c = range.firstCol; c < range.endCol; c++) {
    ctx.save();
    ctx.translate(range.originX + c * g.cellWidth + (g.cellWidth - gap) / 2, g.cellsHeight + LABEL_GAP);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(fitText(ctx, grid.labels[c], g.labelHeight - LABEL_GAP * 2), 0, 0);
    ctx.restore();
  }
}

/** A column with no values by design: faint diagonal hatching, so it reads as "nothing here", not as missing data. */
function paintGap(ctx: CanvasRenderingContext2D, x: number, width: number, height: number, theme: Theme): void {
  ctx.save();
  ctx.beginPath();
  ctx.rect(x, 0, width, height);
  ctx.clip();
  ctx.fillStyle = withAlpha(theme.grid, 0.25);
  ctx.fillRect(x, 0, width, height);
  ctx.strokeStyle = withAlpha(theme.muted, 0.45);
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let y = -width; y < height; y += 6) {
    ctx.moveTo(x, y + width);
    ctx.lineTo(x + width, y);
  }
  ctx.stroke();
  ctx.restore();
}

/** Layer numbers beside the rows, and the axis name; drawn apart so they stay put while scrolling. */
export function paintRowLabels(ctx: CanvasRenderingContext2D, grid: HeatmapGrid, g: HeatmapGeometry, theme: Theme): void {
  ctx.font = `11px ${theme.fontFamily}`;
  ctx.fillStyle = theme.muted;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  const every = Math.ceil(12 / g.cellHeight);
  for (let r = 0; r < grid.rows; r += every) ctx.fillText(grid.rowLabels?.[r] ?? String(r), ROW_LABEL_WIDTH - 6, r * g.cellHeight + g.cellHeight / 2);
  ctx.save();
  ctx.translate(10, g.cellsHeight / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = 'center';
  ctx.fillStyle = theme.muted;
  ctx.font = `12px ${theme.fontFamily}`;
  ctx.fillText('layer', 0, 0);
  ctx.restore();
  ctx.strokeStyle = withAlpha(theme.grid, 0.8);
  ctx.beginPath();
  ctx.moveTo(ROW_LABEL_WIDTH - 1.5, 0);
  ctx.lineTo(ROW_LABEL_WIDTH - 1.5, g.cellsHeight);
  ctx.stroke();
}

/** The text, cut with an ellipsis to fit `width` pixels in the context's font. */
export function fitText(ctx: CanvasRenderingContext2D, text: string, width: number): string {
  if (ctx.measureText(text).width <= width) return text;
  let s = text;
  while (s.length > 1 && ctx.measureText(`${s}…`).width > width) s = s.slice(0, -1);
  return `${s}…`;
}

/** Sizes a canvas for crisp drawing on high-density screens and returns its scaled context. */
export function sizeCanvas(canvas: HTMLCanvasElement, cssWidth: number, cssHeight: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.max(1, Math.round(cssWidth * dpr));
  canvas.height = Math.max(1, Math.round(cssHeight * dpr));
  canvas.style.width = `${cssWidth}px`;
  canvas.style.height = `${cssHeight}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}
