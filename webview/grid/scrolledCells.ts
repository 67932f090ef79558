/**
 * The frame of a token grid (heatmap, logit lens): a cells canvas as wide as the viewport that
 * sticks inside a scroller as wide as the whole text, and row names on their own canvas that stay
 * put. Scrolling or resizing repaints, at most once a frame, only the columns in view, so a text of
 * any length stays within the browser's canvas size limits.
 */
import { el } from '../dom';
import { FrameScheduler, visibleColumns } from './scrollWindow';

export class ScrolledCells {
  readonly rowLabels = el('canvas', { class: 'heatmap-rows', 'aria-hidden': 'true' });
  private readonly sizer = el('div', { class: 'heatmap-sizer' });
  private readonly scroller: HTMLElement;
  private readonly frames: FrameScheduler;
  /** The row names and the scroller, side by side. */
  readonly frame: HTMLElement;

  constructor(
    readonly canvas: HTMLCanvasElement,
    /** What the scroller says to screen readers (it takes focus, so the arrow keys scroll it). */
    scrollerLabel: string,
    draw: () => void,
  ) {
    this.frames = new FrameScheduler(draw);
    this.sizer.append(canvas);
    this.scroller = el('div', { class: 'heatmap-scroll', tabindex: 0, 'aria-label': scrollerLabel }, this.sizer);
    this.frame = el('div', { class: 'heatmap-frame' }, this.rowLabels, this.scroller);
    this.scroller.addEventListener('scroll', () => this.schedule());
    new ResizeObserver(() => this.schedule()).observe(this.scroller);
  }

  /** Makes the scroller as wide as the whole grid. */
  setContentWidth(px: number): void {
    this.sizer.style.width = `${px}px`;
  }

  /** The columns in view, and where the view starts. */
  visible(cols: number, cellWidth: number): ReturnType<typeof visibleColumns> {
    return visibleColumns(this.scroller, cols, cellWidth);
  }

  /** The grid's column under a pointer event on the cells canvas. */
  columnAt(e: MouseEvent, cellWidth: number): number {
    return Math.floor((e.offsetX + this.scroller.scrollLeft) / cellWidth);
  }

  schedule(): void {
    this.frames.schedule();
  }

  cancel(): void {
    this.frames.cancel();
  }
}
