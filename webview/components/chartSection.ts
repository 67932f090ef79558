/**
 * One question, one section: heading, a plain one-line explanation, the chart, and a "Show table"
 * switch that puts the same numbers in an accessible table. Which tables are open is remembered.
 */
import type { TableModel } from '../../src/shared/chartText';
import { el } from '../dom';
import type { Host } from '../host';
import { renderTable } from './table';

export interface SectionOptions {
  id: string;
  title: string;
  explanation: string;
  /** The chart itself (a chart box, the heatmap). */
  content: HTMLElement;
  /** Controls shown between the explanation and the chart (dataset pickers). */
  controls?: HTMLElement;
}

export class ChartSection {
  readonly root: HTMLElement;
  private readonly note = el('p', { class: 'section-note', hidden: true });
  private readonly tableHost = el('div', { class: 'section-table' });
  /** Below the chart: the drill-down list of the layer last clicked. */
  private readonly drillHost = el('div', { class: 'section-drill' });
  private readonly toggle: HTMLElement & { checked: boolean };
  private table: () => TableModel | undefined = () => undefined;

  constructor(
    private readonly options: SectionOptions,
    private readonly host: Host,
  ) {
    const headingId = `heading-${options.id}`;
    this.toggle = el('vscode-checkbox', { id: `toggle-table-${options.id}`, 'data-testid': `toggle-table-${options.id}`, label: 'Show table', 'data-focus-key': `table-${options.id}` }) as HTMLElement & { checked: boolean };
    this.toggle.checked = host.ui.openTables.includes(options.id);
    this.toggle.addEventListener('change', () => this.onToggle());
    this.root = el(
      'section',
      { id: `section-${options.id}`, class: 'chart-section', 'aria-labelledby': headingId },
      el('div', { class: 'section-head' }, el('h2', { id: headingId }, options.title), this.toggle),
      el('p', { class: 'section-explanation' }, options.explanation),
      options.controls,
      this.note,
      options.content,
      this.drillHost,
      this.tableHost,
    );
  }

  /** Sets what the table shows; it is built only while open, so hidden tables cost nothing. */
  setTable(table: () => TableModel | undefined): void {
    this.table = table;
    this.renderTable();
  }

  /** Shows (or, with undefined, removes) the drill-down under the chart. */
  setDrill(content: HTMLElement | undefined): void {
    this.drillHost.replaceChildren(...(content ? [content] : []));
  }

  /** A note in place of the chart (e.g. fewer than two datasets to compare); undefined shows the chart. */
  setNote(text: string | undefined): void {
    this.note.textContent = text ?? '';
    this.note.hidden = text === undefined;
    this.options.content.hidden = text !== undefined;
  }

  private onToggle(): void {
    const open = new Set(this.host.ui.openTables);
    if (this.toggle.checked) open.add(this.options.id);
    else open.delete(this.options.id);
    this.host.updateUi({ openTables: [...open] });
    this.renderTable();
  }

  private renderTable(): void {
    const model = this.toggle.checked && !this.options.content.hidden ? this.table() : undefined;
    this.tableHost.replaceChildren(...(model ? [renderTable(model, `table-${this.options.id}`)] : []));
  }
}

/** A sized, positioned box Chart.js can fill responsively, holding the chart's canvas. */
export function chartBox(id: string, extraClass = ''): { box: HTMLElement; canvas: HTMLCanvasElement } {
  const canvas = el('canvas', { id: `chart-${id}`, 'data-testid': `chart-${id}`, role: 'img' });
  const box = el('div', { class: `chart-box ${extraClass}`.trim() }, canvas);
  return { box, canvas };
}
