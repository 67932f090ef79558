/** The accessible twin of a chart: a real table with a caption and scoped headers. */
import type { TableModel } from '../../src/shared/chartText';
import { el } from '../dom';

export function renderTable(model: TableModel, id: string): HTMLElement {
  const head = el('tr', {}, ...model.columns.map((c) => el('th', { scope: 'col' }, c)));
  const body = model.rows.map((row) => el('tr', {}, el('th', { scope: 'row' }, row[0] ?? ''), ...row.slice(1).map((cell) => el('td', {}, cell))));
  const table = el('table', { id, 'data-testid': id, class: 'data-table' }, el('caption', {}, model.caption), el('thead', {}, head), el('tbody', {}, ...body));
  // A focusable, labelled scroll region, so wide tables can be scrolled from the keyboard.
  return el('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': model.caption }, table);
}
