/**
 * The results panel: header (model, progress, datasets), findings in plain words, then one
 * section per question. The layout is built once; snapshots update charts in place and rebuild
 * only the small header, the findings and an open drill-down.
 */
import { allDatasets, colorIndexOf, heatmapGrid, isEmptyChart, visibleDatasets } from '../../src/shared/chartData';
import { describeHeatmap, heatmapTable, layerTable } from '../../src/shared/chartText';
import { comparisonChart, metricLabel } from '../../src/shared/comparisonData';
import { comparisonTable } from '../../src/shared/comparisonText';
import { drillDown, type DrillMetricId } from '../../src/shared/drillDown';
import { exportCaption } from '../../src/shared/exportCaption';
import type { RunProgress, ViewState } from '../../src/shared/protocol';
import { DifferenceChartView } from '../charts/differenceChartView';
import { LayerChartView } from '../charts/layerChartView';
import { chartBox, ChartSection } from '../components/chartSection';
import { ComparisonPicker } from '../components/comparisonPicker';
import { datasetList } from '../components/datasetList';
import { drillDownView } from '../components/drillDownView';
import { emptyState } from '../components/emptyState';
import { findingsView, isFindings } from '../components/findingsView';
import { modelLine } from '../components/modelLine';
import { ProgressLine } from '../components/progressLine';
import { button, el, keepFocus } from '../dom';
import { HeatmapView } from '../heatmap/heatmapView';
import type { Host } from '../host';
import type { Theme } from '../theme';
import type { ExportItem, View } from '../view';
import { LAYER_SECTIONS } from './layerSections';
import { LensDatasetsSection } from './lensDatasetsSection';
import { LensSection } from './lensSection';
import { PatchSection } from './patchSection';
import { TextDiffSection } from './textDiffSection';

interface LayerPart {
  section: ChartSection;
  chart: LayerChartView;
  spec: (typeof LAYER_SECTIONS)[number];
  /** Drawn now (false while the chart shows a note instead). */
  shown: boolean;
}

/** The layer whose texts are listed, and under which chart. */
interface Drill {
  section: string;
  layer: number;
}

type Checkbox = HTMLElement & { checked: boolean };

export class PanelView implements View {
  private readonly header = el('div', { class: 'header-body' });
  private readonly progressLine: ProgressLine;
  private readonly empty: HTMLElement;
  private readonly charts_ = el('div', { class: 'sections', id: 'sections' });
  private readonly findings = el('details', { class: 'findings', id: 'section-findings', open: true });
  private readonly toolbar: HTMLElement;
  private readonly fromZero: Checkbox;
  private readonly layers: LayerPart[];
  private readonly difference: { section: ChartSection; chart: DifferenceChartView; picker: ComparisonPicker };
  private readonly heatmap: { section: ChartSection; view: HeatmapView; perLayer: Checkbox };
  private readonly lens: LensSection;
  private readonly textDiff: TextDiffSection;
  private readonly lensDatasets: LensDatasetsSection;
  private readonly patch: PatchSection;
  private state: ViewState | undefined;
  private theme: Theme | undefined;
  private drill: Drill | undefined;
  private drillKey: string | undefined;

  constructor(app: HTMLElement, private readonly host: Host) {
    this.progressLine = new ProgressLine(host);
    this.empty = emptyState(host);
    this.fromZero = el('vscode-checkbox', { label: 'Start y axes at zero', 'data-testid': 'y-from-zero', 'data-focus-key': 'y-from-zero' }) as Checkbox;
    this.fromZero.checked = host.ui.yFromZero;
    this.fromZero.addEventListener('change', () => {
      this.host.updateUi({ yFromZero: this.fromZero.checked });
      if (this.state && this.theme) this.renderLayers(this.state, this.theme);
    });
    this.toolbar = el('div', { class: 'chart-toolbar wide' }, el('span', { class: 'section-note' }, 'Y axes zoom to the data;'), this.fromZero);
    this.layers = LAYER_SECTIONS.map((spec) => {
      const { box, canvas } = chartBox(spec.id);
      const section = new ChartSection({ id: spec.id, title: spec.title, explanation: spec.explanation, content: box }, host);
      return { spec, section, shown: false, chart: new LayerChartView(spec.id, canvas, spec.chart, (layer) => this.openDrill({ section: spec.id, layer })) };
    });
    this.difference = this.buildDifference();
    this.heatmap = this.buildHeatmap();
    this.lens = new LensSection(host);
    this.textDiff = new TextDiffSection(host);
    this.lensDatasets = new LensDatasetsSection(host);
    this.patch = new PatchSection(host);
    this.findings.classList.add('wide');
    this.charts_.append(this.findings, this.toolbar, ...this.layers.map((l) => l.section.root), this.difference.section.root, this.heatmap.section.root, this.lens.section.root, ...this.lensDatasets.roots, this.textDiff.section.root, this.patch.section.root);
    // Nothing but the header until the first snapshot says what there is to show.
    this.empty.hidden = true;
    for (const section of this.charts_.children) (section as HTMLElement).hidden = true;
    this.header.append(el('p', { class: 'waiting' }, 'Loading Layer Profiler…'));
    app.replaceChildren(el('header', { class: 'panel-header' }, this.header, this.progressLine.root), this.empty, this.charts_);
  }

  private buildDifference() {
    const { box, canvas } = chartBox('difference', 'chart-box-fit');
    const picker = new ComparisonPicker(this.host);
    const section = new ChartSection(
      {
        id: 'difference',
        title: 'Which layers react differently to A than to B, and how sure is that?',
        explanation:
          'Per layer, the difference of the means (A − B) with its 95% confidence interval, from Welch’s t-test on the per-text values; p is adjusted across the layers (Benjamini–Hochberg q), and layers with q ≤ 0.05 are drawn solid and marked ★. Layers are ranked by p. Hover a bar for t, df, p, q and Hedges’ g; click it for the texts behind it.',
        content: box,
        controls: picker.root,
      },
      this.host,
    );
    section.root.classList.add('wide');
    return { section, picker, chart: new DifferenceChartView('difference', canvas, box, (layer) => this.openDrill({ section: 'difference', layer })) };
  }

  private buildHeatmap() {
    const perLayer = el('vscode-checkbox', { label: 'Scale each layer separately', 'data-testid': 'heatmap-per-layer', 'data-focus-key': 'heatmap-per-layer' }) as Checkbox;
    perLayer.checked = this.host.ui.heatmapPerLayer;
    perLayer.addEventListener('change', () => {
      this.host.updateUi({ heatmapPerLayer: perLayer.checked });
      this.renderHeatmap();
    });
    const view = new HeatmapView(perLayer);
    const section = new ChartSection(
      {
        id: 'heatmap',
        title: 'Which tokens does each layer react to?',
        explanation: 'Each cell is a token’s average |change| made by a layer, for the last profiled selection, coloured on a log scale from dark purple (low) to yellow (high). Hover a cell for its value; scroll sideways for long texts.',
        content: view.root,
      },
      this.host,
    );
    section.root.classList.add('wide');
    return { section, view, perLayer };
  }

  render(state: ViewState, theme: Theme): void {
    this.state = state;
    this.theme = theme;
    keepFocus(this.header, () => this.header.replaceChildren(...this.headerContent(state, theme)));
    this.progressLine.update(state.progress);
    const hasResults = allDatasets(state).length > 0;
    // A run in progress (the progress line says so) is no time to invite the user to start one.
    this.empty.hidden = hasResults || !!state.heatmap || !!state.lens || !!state.textDiff || !!state.lensDatasets || !!state.patch || !!state.progress;
    for (const part of [...this.layers.map((l) => l.section), this.difference.section]) part.root.hidden = !hasResults;
    this.toolbar.hidden = !hasResults;
    this.findings.hidden = !hasResults || !isFindings(state.findings);
    if (hasResults) {
      this.renderFindings(state);
      this.renderLayers(state, theme);
      this.renderDifference(state, theme);
      this.renderDrill();
    }
    this.heatmap.section.root.hidden = !state.heatmap;
    this.renderHeatmap();
    this.lens.render(state, theme);
    this.lensDatasets.render(state, theme);
    this.textDiff.render(state, theme);
    this.patch.render(state, theme);
  }

  private headerContent(state: ViewState, theme: Theme): HTMLElement[] {
    const all = allDatasets(state);
    const parts: HTMLElement[] = [el('div', { class: 'header-top' }, el('h1', {}, 'Layer Profiler'), modelLine(state.model))];
    if (all.length === 0) return parts;
    const actions = el('div', { class: 'header-actions' }, button('Export…', () => this.host.command('exportResults'), { secondary: true, key: 'export' }));
    parts.push(el('div', { class: 'header-datasets' }, datasetList(state, theme, this.host, 'chips'), actions));
    if (visibleDatasets(state).length === 0) parts.push(el('p', { class: 'section-note' }, 'All datasets are hidden. Tick a dataset to show it in the charts.'));
    return parts;
  }

  private renderFindings(state: ViewState): void {
    const findings = state.findings;
    if (!isFindings(findings)) return;
    const key = JSON.stringify(findings);
    if (this.findings.dataset.key === key) return;
    this.findings.dataset.key = key;
    keepFocus(this.findings, () => this.findings.replaceChildren(el('summary', {}, el('h2', {}, 'Findings')), findingsView(findings)));
  }

  private renderLayers(state: ViewState, theme: Theme): void {
    for (const part of this.layers) {
      const { spec, section, chart } = part;
      const data = spec.data(state);
      part.shown = !(spec.missing && data.series.length > 0 && isEmptyChart(data));
      section.setNote(part.shown ? undefined : spec.missing);
      if (part.shown) chart.render(data, theme, this.host.ui.yFromZero);
      section.setTable(() => layerTable(data, spec.table.caption, spec.table.value, spec.table.error));
    }
  }

  private renderDifference(state: ViewState, theme: Theme): void {
    const { section, chart, picker } = this.difference;
    const data = comparisonChart(state);
    picker.update(
      visibleDatasets(state).map((d) => d.dataset.name),
      data.view,
    );
    if (!data.view) {
      section.setNote(data.reason);
      chart.canvas.dataset.points = '{}';
      section.setTable(() => undefined);
      return;
    }
    const view = data.view;
    section.setNote(undefined);
    chart.render(view, data.rows, { a: colorIndexOf(state, view.a), b: view.b === 'rest' ? undefined : colorIndexOf(state, view.b) }, theme);
    section.setTable(() => comparisonTable(view, data.rows));
  }

  private openDrill(drill: Drill): void {
    this.drill = drill;
    this.renderDrill();
  }

  private renderDrill(): void {
    const { state, theme, drill } = this;
    const sections = [...this.layers.map((l) => ({ id: l.spec.id, section: l.section })), { id: 'difference', section: this.difference.section }];
    for (const s of sections) if (s.id !== drill?.section) s.section.setDrill(undefined);
    if (!state || !theme || !drill) return;
    const target = sections.find((s) => s.id === drill.section)?.section;
    const args = this.drillArgs(state, drill.section);
    if (!target || !args) return;
    const data = drillDown(state, args.metric, drill.layer, 5, args.only);
    // Snapshots arrive every second during a run: rebuild only when the list changes, so focus and hover stay.
    const key = JSON.stringify([drill, data, theme.kind, theme.series]);
    if (key === this.drillKey) return;
    this.drillKey = key;
    target.setDrill(
      drillDownView(data, theme, this.host, () => {
        this.drill = undefined;
        this.drillKey = undefined;
        target.setDrill(undefined);
      }),
    );
  }

  /** The metric a section's drill-down lists texts by, and (for the comparison) the datasets compared. */
  private drillArgs(state: ViewState, section: string): { metric: DrillMetricId; only?: string[] } | undefined {
    if (section !== 'difference') {
      const spec = LAYER_SECTIONS.find((s) => s.id === section);
      return spec && { metric: spec.drill };
    }
    const view = comparisonChart(state).view;
    if (!view) return undefined;
    return { metric: view.request.metric, only: view.b === 'rest' ? [view.a, ...(view.pooled ?? [])] : [view.a, view.b] };
  }

  private renderHeatmap(): void {
    const { state, theme } = this;
    const selection = state?.heatmap;
    if (!state || !theme || !selection) return;
    const grid = heatmapGrid(selection.profile);
    this.heatmap.view.render(grid, selection.label, describeHeatmap(grid, selection.label), theme, this.heatmap.perLayer.checked);
    this.heatmap.section.setTable(() => heatmapTable(grid, selection.label));
  }

  progress(progress: RunProgress | undefined): void {
    if (this.state) this.state = { ...this.state, progress };
    this.progressLine.update(progress);
  }

  charts(): ExportItem[] {
    const state = this.state;
    if (!state) return [];
    const items: ExportItem[] = [];
    if (allDatasets(state).length > 0) {
      for (const l of this.layers) if (l.shown) items.push({ chart: l.chart, caption: exportCaption(state, l.spec.title, l.spec.chart.yTitle) });
      const view = comparisonChart(state).view;
      if (view) {
        const names = view.b === 'rest' ? [view.a, ...(view.pooled ?? [])] : [view.a, view.b];
        items.push({ chart: this.difference.chart, caption: exportCaption(state, `Comparison: ${view.a} vs ${view.b === 'rest' ? 'the rest' : view.b}`, `difference of ${metricLabel(view.request.metric)}, 95% CI, Welch’s t-test, ★ q ≤ ${view.alpha}`, names) });
      }
    }
    if (state.heatmap) items.push({ chart: this.heatmap.view, caption: { title: `Token × layer heatmap: ${state.heatmap.label}`, lines: [`Metric: mean |Δ| per token and layer (log colour scale, viridis${this.heatmap.perLayer.checked ? ', each layer scaled separately' : ''})`, `Model: ${state.results?.model.id ?? state.model.id}`, `Text: ${state.heatmap.label} (${state.heatmap.profile.tokens.length} tokens)`] } });
    const lens = this.lens.exportItem(state);
    if (lens) items.push(lens);
    items.push(...this.lensDatasets.exportItems(state));
    items.push(...this.textDiff.exportItems(state));
    items.push(...this.patch.exportItems(state));
    return items;
  }
}
