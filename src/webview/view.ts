/** What main.ts drives: a panel or side view that renders snapshots and progress. */
import type { RunProgress, ViewState } from '../shared/protocol';
import type { ChartHandle } from './charts/chartHandle';
import type { Theme } from './theme';

export interface View {
  render(state: ViewState, theme: Theme): void;
  progress(progress: RunProgress | undefined): void;
  /** The charts that currently show something, for PNG export. */
  charts(): ChartHandle[];
}
