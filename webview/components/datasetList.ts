/**
 * The datasets of the current results, each with its series colour, a visibility switch and
 * rename/remove buttons. The host owns the list (it prompts for new names), so every control
 * only posts a message and the next snapshot redraws the list.
 */
import type { DatasetResult } from '../../src/core/results';
import type { ViewState } from '../../src/shared/protocol';
import { allDatasets, colorIndexOf } from '../../src/shared/chartData';
import { button, el } from '../dom';
import type { Host } from '../host';
import { seriesColor, type Theme } from '../theme';

export type DatasetListVariant = 'chips' | 'list';

export function datasetList(state: ViewState, theme: Theme, host: Host, variant: DatasetListVariant): HTMLElement {
  const hidden = new Set(state.hidden);
  const items = allDatasets(state).map((d) => datasetItem(d, !hidden.has(d.name), seriesColor(theme, colorIndexOf(state, d.name)), host, state.selection === d.name));
  return el('ul', { class: `datasets datasets-${variant}`, 'aria-label': 'Datasets', 'data-testid': 'datasets' }, ...items);
}

function datasetItem(d: DatasetResult, visible: boolean, color: string, host: Host, selection: boolean): HTMLElement {
  const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
  swatch.style.backgroundColor = color;
  const toggle = el('vscode-checkbox', { label: d.name, 'aria-label': `Show ${d.name} in the charts`, 'data-focus-key': `visible:${d.name}`, 'data-testid': `dataset-toggle-${d.name}` }) as HTMLElement & { checked: boolean };
  toggle.checked = visible;
  toggle.addEventListener('change', () => host.post({ type: 'toggleDataset', name: d.name, visible: toggle.checked }));
  const meta = el('span', { class: 'dataset-meta', title: selection ? 'The last profiled selection: the next Profile Selection replaces it unless you keep it.' : skippedTitle(d) }, selection ? `selection · replaced by the next one · ${describe(d)}` : describe(d));
  const actions = el(
    'span',
    { class: 'dataset-actions' },
    selection ? button('Keep as dataset', () => host.post({ type: 'keepSelection' }), { key: 'keep-selection', ariaLabel: `Keep ${d.name} as a dataset`, title: 'Keep this selection; the next selection then adds a new one.' }) : undefined,
    button('Rename…', () => host.post({ type: 'renameDataset', name: d.name }), { secondary: true, key: `rename:${d.name}`, ariaLabel: `Rename dataset ${d.name}` }),
    button('Remove', () => host.post({ type: 'removeDataset', name: d.name }), { secondary: true, key: `remove:${d.name}`, ariaLabel: `Remove dataset ${d.name}` }),
  );
  return el('li', { class: `${visible ? 'dataset' : 'dataset dataset-hidden'}${selection ? ' dataset-selection' : ''}`, 'data-dataset': d.name }, el('span', { class: 'dataset-name' }, swatch, toggle), meta, actions);
}

function describe(d: DatasetResult): string {
  const parts = [`${count(d.texts, 'text')}`, `${count(d.tokens, 'token')}`];
  if (d.skipped?.length) parts.push(`${d.skipped.length} skipped`);
  if (d.partial) parts.push('partial');
  return parts.join(' · ');
}

function count(n: number, noun: string): string {
  return `${(Number.isFinite(n) ? n : 0).toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}

function skippedTitle(d: DatasetResult): string | undefined {
  if (!d.skipped?.length) return d.partial ? 'The run was cancelled before every text was profiled.' : undefined;
  const shown = d.skipped.slice(0, 10).map((s) => `${s.path}: ${s.reason}`);
  if (d.skipped.length > 10) shown.push(`…and ${d.skipped.length - 10} more`);
  return `Skipped:\n${shown.join('\n')}`;
}
