/** The words above an exported chart image: title, metric, model and each dataset's n. Pure. */
import { allDatasets } from './chartData';
import type { ViewState } from './protocol';

export interface ExportCaption {
  title: string;
  lines: string[];
}

/** `datasets`: the names the chart shows (default: every visible dataset). */
export function exportCaption(state: ViewState, title: string, metric: string, datasets?: readonly string[]): ExportCaption {
  const hidden = new Set(state.hidden);
  const shown = allDatasets(state).filter((d) => (datasets ? datasets.includes(d.name) : !hidden.has(d.name)));
  const model = [state.results?.model.id ?? state.model.id, state.results?.model.dtype ?? state.model.dtype].filter(Boolean).join(', ');
  const skip = state.results?.settings.skipFirstToken ? ' (first token left out)' : '';
  return {
    title,
    lines: [`Metric: ${metric}${skip}`, `Model: ${model}`, `Datasets: ${shown.map((d) => `${d.name} (n = ${d.texts})`).join(', ') || 'none'}`],
  };
}
