/**
 * Hovering a grid's cells, as every grid view does it: which cell is under the pointer, its
 * tooltip beside the pointer, and a repaint (to outline the cell) only when the cell changes.
 */
import { placeTooltip } from './tooltip';

export interface Cell {
  row: number;
  col: number;
}

export interface CellHoverHooks {
  /** The cell under the pointer, or undefined (off the cells, or nothing drawn yet). */
  cellAt(e: MouseEvent): Cell | undefined;
  /** Writes the cell's tooltip into `tip`; `changed`: the pointer moved onto another cell. */
  fillTip(tip: HTMLElement, cell: Cell, changed: boolean): void;
  /** Repaints the cells (the hovered one outlined). */
  repaint(): void;
}

export class CellHover {
  private cell: Cell | undefined;

  constructor(
    canvas: HTMLCanvasElement,
    private readonly tip: HTMLElement,
    private readonly root: HTMLElement,
    private readonly hooks: CellHoverHooks,
  ) {
    canvas.addEventListener('mousemove', (e) => this.set(hooks.cellAt(e), e));
    canvas.addEventListener('mouseleave', () => this.set(undefined));
  }

  /** The hovered cell, for painting its outline. */
  get current(): Cell | undefined {
    return this.cell;
  }

  /** Forgets the hovered cell and hides its tooltip (a new grid was drawn). */
  reset(): void {
    this.cell = undefined;
    this.tip.hidden = true;
  }

  private set(cell: Cell | undefined, e?: MouseEvent): void {
    const changed = cell?.row !== this.cell?.row || cell?.col !== this.cell?.col;
    this.cell = cell;
    if (!cell || !e) {
      this.tip.hidden = true;
    } else {
      this.hooks.fillTip(this.tip, cell, changed);
      this.tip.hidden = false;
      placeTooltip(this.tip, this.root, e);
    }
    if (changed) this.hooks.repaint();
  }
}
