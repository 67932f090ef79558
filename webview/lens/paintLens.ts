/**
 * Paints the logit lens grid onto a 2D context: the visible columns on screen, all of them for the
 * PNG export. Each cell holds its top-1 prediction in a colour readable over the cell; a cell whose
 * prediction is the actual next token is outlined; the model's own output row stands apart.
 */
import { lensShadePosition, type LensGrid, type LensShade } from '../../src/shared/lensGrid';
import { formatColor, luminance, scaleColor, withAlpha } from '../color';
import type { Theme } from '../theme';
import { fitText } from '../heatmap/paint';

export const LENS_CELL_WIDTH = 64;
export const LENS_ROW_LABEL_WIDTH = 60;
/** Space between the layers and the model's own output row. */
const FINAL_GAP = 4;
const LABEL_LINE = 16;

export interface LensGeometry {
  cellWidth: number;
  cellHeight: number;
  /** Height of the cells, the final row's gap included. */
  cellsHeight: number;
  /** Two lines under the cells: the input tokens and the actual next tokens. */
  labelHeight: number;
}

export function lensGeometry(grid: LensGrid, cellWidth = LENS_CELL_WIDTH): LensGeometry {
  const cellHeight = Math.max(14, Math.min(20, Math.round(440 / Math.max(1, grid.rows))));
  return { cellWidth, cellHeight, cellsHeight: grid.rows * cellHeight + FINAL_GAP, labelHeight: cellWidth >= 24 ? LABEL_LINE * 2 + 6 : 4 };
}

export function rowTop(grid: LensGrid, g: LensGeometry, row: number): number {
  return row * g.cellHeight + (row === grid.rows - 1 ? FINAL_GAP : 0);
}

/** The row at a y offset, or -1 (the final row's gap included in none). */
export function rowAt(grid: LensGrid, g: LensGeometry, y: number): number {
  for (let r = 0; r < grid.rows; r++) if (y >= rowTop(grid, g, r) && y < rowTop(grid, g, r) + g.cellHeight) return r;
  return -1;
}

export interface LensPaintRange {
  firstCol: number;
  /** Exclusive. */
  endCol: number;
  /** X of column 0 on the context (negative when scrolled). */
  originX: number;
  shade: LensShade;
  hover?: { row: number; col: number };
}

const font = (theme: Theme) => `11px ${theme.monoFamily}`;

export function paintLensCells(ctx: CanvasRenderingContext2D, grid: LensGrid, g: LensGeometry, theme: Theme, range: LensPaintRange): void {
  const gap = 1;
  const w = g.cellWidth - gap;
  const h = g.cellHeight - gap;
  ctx.font = font(theme);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  for (let c = range.firstCol; c < range.endCol; c++) {
    const x = range.originX + c * g.cellWidth;
    for (let r = 0; r < grid.rows; r++) {
      const t = lensShadePosition(grid, r, c, range.shade);
      if (Number.isNaN(t)) continue;
      const y = rowTop(grid, g, r);
      const color = scaleColor(theme.heatStops, t);
      ctx.fillStyle = formatColor(color);
      ctx.fillRect(x, y, w, h);
      const ink = luminance(color) > 0.3 ? '#000000' : '#ffffff';
      const cell = grid.cells[r][c];
      if (cell.correct) {
        ctx.strokeStyle = ink;
        ctx.lineWidth = 2;
        ctx.strokeRect(x + 1.5, y + 1.5, w - 3, h - 3);
      }
      if (g.cellWidth >= 24) {
        ctx.fillStyle = ink;
        ctx.fillText(fitText(ctx, cell.token, w - 8), x + w / 2, y + h / 2 + 0.5);
      }
    }
  }
  if (range.hover) {
    ctx.strokeStyle = theme.foreground;
    ctx.lineWidth = 2;
    ctx.strokeRect(range.originX + range.hover.col * g.cellWidth - 1, rowTop(grid, g, range.hover.row) - 1, w + 2, h + 2);
  }
  if (g.cellWidth < 24) return;
  for (let c = range.firstCol; c < range.endCol; c++) {
    const x = range.originX + c * g.cellWidth + w / 2;
    ctx.fillStyle = theme.foreground;
    ctx.fillText(fitText(ctx, grid.tokens[c], w - 4), x, g.cellsHeight + 4 + LABEL_LINE / 2);
    ctx.fillStyle = theme.muted;
    ctx.fillText(fitText(ctx, grid.next[c] ?? '–', w - 4), x, g.cellsHeight + 4 + LABEL_LINE * 1.5);
  }
}

/** Row names beside the grid and the names of the two label lines; drawn apart so they stay put while scrolling. */
export function paintLensRowLabels(ctx: CanvasRenderingContext2D, grid: LensGrid, g: LensGeometry, theme: Theme): void {
  ctx.font = `11px ${theme.fontFamily}`;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  const every = Math.ceil(12 / g.cellHeight);
  for (let r = 0; r < grid.rows; r++) {
    const last = r === grid.rows - 1;
    if (!last && r % every !== 0) continue;
    ctx.fillStyle = last ? theme.foreground : theme.muted;
    ctx.fillText(grid.rowLabels[r], LENS_ROW_LABEL_WIDTH - 6, rowTop(grid, g, r) + g.cellHeight / 2);
  }
  if (g.labelHeight > LABEL_LINE) {
    ctx.fillStyle = theme.foreground;
    ctx.fillText('input', LENS_ROW_LABEL_WIDTH - 6, g.cellsHeight + 4 + LABEL_LINE / 2);
    ctx.fillStyle = theme.muted;
    ctx.fillText('next', LENS_ROW_LABEL_WIDTH - 6, g.cellsHeight + 4 + LABEL_LINE * 1.5);
  }
  ctx.strokeStyle = withAlpha(theme.grid, 0.8);
  ctx.beginPath();
  ctx.moveTo(LENS_ROW_LABEL_WIDTH - 1.5, 0);
  ctx.lineTo(LENS_ROW_LABEL_WIDTH - 1.5, g.cellsHeight);
  ctx.stroke();
}
