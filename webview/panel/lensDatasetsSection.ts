/**
 * The panel's lens datasets: folders read through the logit lens, a chart per lens metric (a line
 * per dataset across the points, mean over texts ± SE), then the comparison of two of them per
 * layer with Welch's 95% CIs and ★ on significant layers, and the findings in plain words.
 * Shown only while there are lens datasets; the snapshot's data is checked before drawing.
 */
import { LENS_METRIC_WORDS } from '../../src/core/lens/lensMetrics';
import { comparisonTable } from '../../src/shared/comparisonText';
import { LENS_CHARTS, lensDifferenceView, lensMetricChart, lensMetricLabel, lensMetricTable } from '../../src/shared/lensDatasetChart';
import { parseLensDatasetsView, type LensDatasetsView } from '../../src/shared/lensDatasets';
import type { ViewState } from '../../src/shared/protocol';
import { DifferenceChartView } from '../charts/differenceChartView';
import { LayerChartView } from '../charts/layerChartView';
import { chartBox, ChartSection } from '../components/chartSection';
import { findingsView, isFindings } from '../components/findingsView';
import { LensComparisonPicker } from '../components/lensComparisonPicker';
import { el } from '../dom';
import type { Host } from '../host';
import type { Theme } from '../theme';
import type { ExportItem } from '../view';

export class LensDatasetsSection {
  /** The sections, in page order: findings, one per metric, the comparison. */
  readonly roots: HTMLElement[];
  private readonly findings = el('details', { class: 'findings wide', id: 'section-lens-findings', open: true });
  private readonly charts: { spec: (typeof LENS_CHARTS)[number]; section: ChartSection; chart: LayerChartView }[];
  private readonly difference: { section: ChartSection; chart: DifferenceChartView; picker: LensComparisonPicker };
  private view: LensDatasetsView | undefined;

  constructor(host: Host) {
    this.charts = LENS_CHARTS.map((spec) => {
      const id = `lens-${spec.metric}`;
      const { box, canvas } = chartBox(id);
      const section = new ChartSection({ id, title: `Lens: ${spec.title}`, explanation: `${spec.explanation} Per folder read through the lens (Logit Lens on Folder as Dataset): each text's mean over its positions, averaged over the texts, ± one standard error.`, content: box }, host);
      return { spec, section, chart: new LayerChartView(id, canvas, { yTitle: lensMetricLabel(spec.metric), errorName: 'SE', scale: LENS_METRIC_WORDS[spec.metric].unit === 'nats' ? 'data' : 'share' }) };
    });
    const { box, canvas } = chartBox('lens-difference', 'chart-box-fit');
    const picker = new LensComparisonPicker(host);
    const section = new ChartSection(
      {
        id: 'lens-difference',
        title: 'Lens: which layers know the next token earlier on A than on B?',
        explanation:
          'Per layer (emb: the embedding output), the difference of the lens metric (A − B) with its 95% confidence interval from Welch’s t-test on the per-text values; p is adjusted across the layers (Benjamini–Hochberg q), and layers with q ≤ 0.05 are drawn solid and marked ★. Higher top-1 accuracy or agreement, or lower NLL, entropy or KL, means the layer knows the next token better.',
        content: box,
        controls: picker.root,
      },
      host,
    );
    section.root.classList.add('wide');
    this.difference = { section, picker, chart: new DifferenceChartView('lens-difference', canvas, box, () => undefined) };
    this.roots = [this.findings, ...this.charts.map((c) => c.section.root), section.root];
    for (const r of this.roots) r.hidden = true;
  }

  render(state: ViewState, theme: Theme): void {
    const view = parseLensDatasetsView(state.lensDatasets);
    this.view = view;
    for (const r of this.roots) r.hidden = !view;
    if (!view) return;
    for (const { spec, section, chart } of this.charts) {
      const data = lensMetricChart(view, spec.metric);
      chart.render(data, theme, false);
      section.setTable(() => lensMetricTable(data, spec.metric));
    }
    this.renderDifference(view, theme);
    const findings = view.findings;
    this.findings.hidden = !isFindings(findings);
    if (isFindings(findings)) {
      const key = JSON.stringify(findings);
      if (this.findings.dataset.key !== key) {
        this.findings.dataset.key = key;
        this.findings.replaceChildren(el('summary', {}, el('h2', {}, 'Logit lens findings')), findingsView(findings));
        this.findings.querySelector('[data-testid=findings]')?.setAttribute('data-testid', 'lens-findings');
      }
    }
  }

  private renderDifference(view: LensDatasetsView, theme: Theme): void {
    const { section, chart, picker } = this.difference;
    const c = view.compare;
    const names = view.datasets.map((d) => d.name);
    if (!('layers' in c)) {
      picker.update(names, undefined);
      section.setNote(c.reason);
      chart.canvas.dataset.points = '{}';
      section.setTable(() => undefined);
      return;
    }
    picker.update(names, c.request);
    section.setNote(undefined);
    // Ordered by layer, not by p: the question is how early, so the layers read top to bottom.
    const rows = c.layers.filter((l) => typeof l.layer === 'number' && typeof l.diff === 'number').sort((x, y) => x.layer - y.layer);
    const dv = lensDifferenceView(c);
    const color = (name: string) => view.datasets.find((d) => d.name === name)?.colorIndex ?? 0;
    chart.render(dv, rows, { a: color(c.a), b: color(c.b) }, theme);
    section.setTable(() => comparisonTable(dv, rows));
  }

  exportItems(state: ViewState): ExportItem[] {
    const view = this.view;
    if (!view) return [];
    const model = `Model: ${state.results?.model.id ?? state.model.id}`;
    const texts = `Datasets: ${view.datasets.map((d) => `${d.name} (${d.texts} texts)`).join(', ')}`;
    const items: ExportItem[] = this.charts.map(({ spec, chart }) => ({ chart, caption: { title: `Logit lens: ${spec.title}`, lines: [`${lensMetricLabel(spec.metric)}: mean over texts ± SE`, model, texts] } }));
    const c = view.compare;
    if ('layers' in c) items.push({ chart: this.difference.chart, caption: { title: `Logit lens comparison: ${c.a} vs ${c.b}`, lines: [`difference of ${lensMetricLabel(c.request.metric)}, 95% CI, Welch’s t-test, ★ q ≤ ${c.alpha}`, model, texts] } });
    return items;
  }
}

