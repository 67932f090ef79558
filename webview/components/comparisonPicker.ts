/**
 * What the comparison chart compares: a mode (two datasets, or one against all the others
 * pooled), the datasets, and the metric. Each change posts the whole request; the host answers
 * with a snapshot holding the new statistics.
 */
import { metricLabel, pickPair } from '../../src/shared/comparisonData';
import type { ComparisonChoice, ComparisonMetric, ComparisonRequest, ComparisonView } from '../../src/shared/protocol';
import { el } from '../dom';
import type { Host } from '../host';

type Select = HTMLElement & { value: string };
type Mode = ComparisonChoice['kind'];

export class ComparisonPicker {
  readonly root: HTMLElement;
  private readonly mode: Select;
  private readonly a: Select;
  private readonly b: Select;
  private readonly metric: Select;
  private readonly bPart: HTMLElement;
  private readonly minus = el('span', { class: 'comparison-minus', 'aria-hidden': 'true' }, '−');
  private optionsKey = '';
  private request: ComparisonRequest | undefined;
  private names: string[] = [];

  constructor(private readonly host: Host) {
    this.mode = this.select('mode', 'Compare', () => this.onMode());
    this.a = this.select('a', 'Dataset A', () => this.onSide('a'));
    this.b = this.select('b', 'Dataset B', () => this.onSide('b'));
    this.metric = this.select('metric', 'Metric', () => this.onMetric());
    this.mode.replaceChildren(option('pair', 'Two datasets', true), option('vsRest', 'One dataset vs the rest', false));
    this.bPart = el('span', { class: 'comparison-part' }, el('vscode-label', { for: 'compare-b' }, 'Dataset B'), this.b);
    this.root = el(
      'div',
      { class: 'comparison', 'data-testid': 'comparison' },
      el('span', { class: 'comparison-part' }, el('vscode-label', { for: 'compare-mode' }, 'Compare'), this.mode),
      el('span', { class: 'comparison-part' }, el('vscode-label', { for: 'compare-a' }, 'Dataset A'), this.a),
      this.minus,
      this.bPart,
      el('span', { class: 'comparison-part' }, el('vscode-label', { for: 'compare-metric' }, 'Metric'), this.metric),
    );
  }

  private select(id: string, label: string, onChange: () => void): Select {
    const s = el('vscode-single-select', { id: `compare-${id}`, 'data-testid': `compare-${id}`, 'data-focus-key': `compare-${id}`, label }) as Select;
    s.addEventListener('change', onChange);
    return s;
  }

  private onMode(): void {
    const r = this.request;
    const mode = this.mode.value as Mode;
    if (!r || mode === r.choice.kind) return;
    const a = r.choice.kind === 'pair' ? r.choice.a : r.choice.name;
    const names = this.names;
    const choice: ComparisonChoice = mode === 'vsRest' ? { kind: 'vsRest', name: a } : { kind: 'pair', a, b: names.find((n) => n !== a) ?? a };
    this.send({ ...r, choice });
  }

  private onSide(side: 'a' | 'b'): void {
    const r = this.request;
    const value = (side === 'a' ? this.a : this.b).value;
    if (!r || !value) return;
    if (r.choice.kind === 'vsRest') {
      if (side === 'a' && value !== r.choice.name) this.send({ ...r, choice: { kind: 'vsRest', name: value } });
      return;
    }
    if (value === r.choice[side]) return;
    this.send({ ...r, choice: pickPair(r.choice, side, value) });
  }

  private onMetric(): void {
    const r = this.request;
    const metric = this.metric.value as ComparisonMetric;
    if (!r || !metric || metric === r.metric) return;
    this.send({ ...r, metric });
  }

  private send(request: ComparisonRequest): void {
    this.request = request;
    this.setValues(request);
    this.host.post({ type: 'setComparison', request });
  }

  update(names: string[], view: ComparisonView | undefined): void {
    this.request = view?.request;
    this.names = names;
    this.root.hidden = names.length < 2;
    if (!view) return;
    const key = JSON.stringify([names, view.metrics]);
    if (key !== this.optionsKey) {
      // Options are rebuilt only when the datasets change, so an open dropdown is not disturbed by progress.
      this.optionsKey = key;
      this.a.replaceChildren(...names.map((n) => option(n, n, false)));
      this.b.replaceChildren(...names.map((n) => option(n, n, false)));
      this.metric.replaceChildren(...view.metrics.map((m) => option(m, metricLabel(m), false)));
    }
    this.setValues(view.request);
  }

  private setValues(r: ComparisonRequest): void {
    const pair = r.choice.kind === 'pair';
    const a = r.choice.kind === 'pair' ? r.choice.a : r.choice.name;
    set(this.mode, r.choice.kind);
    set(this.a, a);
    if (r.choice.kind === 'pair') set(this.b, r.choice.b);
    set(this.metric, r.metric);
    this.bPart.hidden = !pair;
    this.minus.textContent = pair ? '−' : '− the rest';
  }
}

function set(s: Select, value: string): void {
  if (s.value !== value) s.value = value;
}

function option(value: string, text: string, selected: boolean): HTMLElement {
  return el('vscode-option', { value, selected }, text);
}
