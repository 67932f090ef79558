/** What the views need from any chart: an id (for export and tests) and a PNG of it. */
import type { ExportCaption } from '../../src/shared/exportCaption';

export interface ChartHandle {
  readonly id: string;
  /** A PNG data URL of the chart at 2× with `caption` above it, or undefined when there is nothing drawn. */
  toPng(caption?: ExportCaption): string | undefined;
  destroy(): void;
}
