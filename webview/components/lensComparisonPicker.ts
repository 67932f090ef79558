/**
 * What the lens comparison compares: two lens datasets and a lens metric. Each change posts the
 * whole request; the host answers with a snapshot holding the new statistics.
 */
import { LENS_METRICS, type LensMetric } from '../../src/core/lens/lensMetrics';
import { lensMetricLabel } from '../../src/shared/lensDatasetChart';
import type { LensComparisonRequest } from '../../src/shared/lensDatasets';
import { el } from '../dom';
import type { Host } from '../host';

type Select = HTMLElement & { value: string };

export class LensComparisonPicker {
  readonly root: HTMLElement;
  private readonly a: Select;
  private readonly b: Select;
  private readonly metric: Select;
  private optionsKey = '';
  private request: LensComparisonRequest | undefined;

  constructor(private readonly host: Host) {
    this.a = this.select('a', () => this.onSide('a'));
    this.b = this.select('b', () => this.onSide('b'));
    this.metric = this.select('metric', () => this.onMetric());
    this.metric.replaceChildren(...LENS_METRICS.map((m) => el('vscode-option', { value: m }, lensMetricLabel(m))));
    this.root = el(
      'div',
      { class: 'comparison', 'data-testid': 'lens-comparison' },
      el('span', { class: 'comparison-part' }, el('vscode-label', { for: 'lens-compare-a' }, 'Dataset A'), this.a),
      el('span', { class: 'comparison-minus', 'aria-hidden': 'true' }, '−'),
      el('span', { class: 'comparison-part' }, el('vscode-label', { for: 'lens-compare-b' }, 'Dataset B'), this.b),
      el('span', { class: 'comparison-part' }, el('vscode-label', { for: 'lens-compare-metric' }, 'Metric'), this.metric),
    );
  }

  private select(id: string, onChange: () => void): Select {
    const s = el('vscode-single-select', { id: `lens-compare-${id}`, 'data-testid': `lens-compare-${id}`, 'data-focus-key': `lens-compare-${id}` }) as Select;
    s.addEventListener('change', onChange);
    return s;
  }

  private onSide(side: 'a' | 'b'): void {
    const r = this.request;
    const value = (side === 'a' ? this.a : this.b).value;
    if (!r || !value || value === r[side]) return;
    // Picking the other side's dataset swaps the two.
    const other = side === 'a' ? 'b' : 'a';
    this.send(value === r[other] ? { ...r, a: r.b, b: r.a } : { ...r, [side]: value });
  }

  private onMetric(): void {
    const r = this.request;
    const metric = this.metric.value as LensMetric;
    if (!r || !metric || metric === r.metric) return;
    this.send({ ...r, metric });
  }

  private send(request: LensComparisonRequest): void {
    this.request = request;
    this.setValues(request);
    this.host.post({ type: 'setLensComparison', request });
  }

  update(names: string[], request: LensComparisonRequest | undefined): void {
    this.request = request;
    this.root.hidden = names.length < 2 || !request;
    if (!request) return;
    const key = JSON.stringify(names);
    if (key !== this.optionsKey) {
      this.optionsKey = key;
      this.a.replaceChildren(...names.map((n) => el('vscode-option', { value: n }, n)));
      this.b.replaceChildren(...names.map((n) => el('vscode-option', { value: n }, n)));
    }
    this.setValues(request);
  }

  private setValues(r: LensComparisonRequest): void {
    for (const [s, v] of [[this.a, r.a], [this.b, r.b], [this.metric, r.metric]] as const) if (s.value !== v) s.value = v;
  }
}
