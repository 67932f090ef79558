/** What main.ts drives: a panel or side view that renders snapshots and progress. */
import type { ExportCaption } from '../src/shared/exportCaption';
import type { RunProgress, ViewState } from '../src/shared/protocol';
import type { ChartHandle } from './charts/chartHandle';
import type { Theme } from './theme';

/** A chart to export, and the words above its image. */
export interface ExportItem {
  chart: ChartHandle;
  caption?: ExportCaption;
}

export interface View {
  render(state: ViewState, theme: Theme): void;
  progress(progress: RunProgress | undefined): void;
  /** The charts that currently show something, for PNG export. */
  charts(): ExportItem[];
}
