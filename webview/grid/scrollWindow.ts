/**
 * What the token grids (heatmap, logit lens) share: they draw only the columns in view of a
 * horizontally scrolled canvas, redrawing at most once a frame.
 */

/** The columns of a `cols`-wide grid in view of `scroller`, and where the view starts. */
export function visibleColumns(scroller: HTMLElement, cols: number, cellWidth: number): { width: number; left: number; firstCol: number; endCol: number } {
  const total = cols * cellWidth;
  const width = Math.max(1, Math.min(total, scroller.clientWidth || total));
  const left = Math.min(scroller.scrollLeft, Math.max(0, total - width));
  return { width, left, firstCol: Math.floor(left / cellWidth), endCol: Math.min(cols, Math.ceil((left + width) / cellWidth)) };
}

/** Calls `draw` on the next animation frame, once however often it is asked. */
export class FrameScheduler {
  private frame = 0;

  constructor(private readonly draw: () => void) {}

  schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  cancel(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
  }
}
