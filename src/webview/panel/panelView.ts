/**
 * The results panel: header (model, progress, datasets), then one section per question. The
 * layout is built once; snapshots update charts in place and rebuild only the small header.
 */
import { allDatasets, differenceChart, heatmapGrid, resolveComparison, visibleDatasets } from '../../shared/chartData';
import { describeHeatmap, differenceTable, heatmapTable, layerTable } from '../../shared/chartText';
import type { RunProgress, ViewState } from '../../shared/protocol';
import type { ChartHandle } from '../charts/chartHandle';
import { DifferenceChartView } from '../charts/differenceChartView';
import { LayerChartView } from '../charts/layerChartView';
import { chartBox, ChartSection } from '../components/chartSection';
import { ComparisonPicker } from '../components/comparisonPicker';
import { datasetList } from '../components/datasetList';
import { emptyState } from '../components/emptyState';
import { modelLine } from '../components/modelLine';
import { ProgressLine } from '../components/progressLine';
import { button, el, keepFocus } from '../dom';
import { HeatmapView } from '../heatmap/heatmapView';
import type { Host } from '../host';
import type { Theme } from '../theme';
import type { View } from '../view';
import { LAYER_SECTIONS } from './layerSections';

interface LayerPart {
  section: ChartSection;
  chart: LayerChartView;
  spec: (typeof LAYER_SECTIONS)[number];
}

export class PanelView implements View {
  private readonly header = el('div', { class: 'header-body' });
  private readonly progressLine: ProgressLine;
  private readonly empty: HTMLElement;
  private readonly charts_ = el('div', { class: 'sections', id: 'sections' });
  private readonly layers: LayerPart[];
  private readonly difference: { section: ChartSection; chart: DifferenceChartView; picker: ComparisonPicker };
  private readonly heatmap: { section: ChartSection; view: HeatmapView; perLayer: HTMLElement & { checked: boolean } };
  private state: ViewState | undefined;
  private theme: Theme | undefined;

  constructor(app: HTMLElement, private readonly host: Host) {
    this.progressLine = new ProgressLine(host);
    this.empty = emptyState(host);
    this.layers = LAYER_SECTIONS.map((spec) => {
      const { box, canvas } = chartBox(spec.id);
      return { spec, section: new ChartSection({ id: spec.id, title: spec.title, explanation: spec.explanation, content: box }, host), chart: new LayerChartView(spec.id, canvas, spec.chart) };
    });
    this.difference = this.buildDifference();
    this.heatmap = this.buildHeatmap();
    this.charts_.append(...this.layers.map((l) => l.section.root), this.difference.section.root, this.heatmap.section.root);
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
        title: 'Which layers react most differently to A than to B?',
        explanation: 'Per layer, abs mean of A minus abs mean of B, ± its standard error √(sA²/nA + sB²/nB). Layers are ranked by |difference| / standard error, most different first.',
        content: box,
        controls: picker.root,
      },
      this.host,
    );
    section.root.classList.add('wide');
    return { section, picker, chart: new DifferenceChartView('difference', canvas, box) };
  }

  private buildHeatmap() {
    const perLayer = el('vscode-checkbox', { label: 'Scale each layer separately', 'data-testid': 'heatmap-per-layer', 'data-focus-key': 'heatmap-per-layer' }) as HTMLElement & { checked: boolean };
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
        explanation: 'Each cell is a token’s average |change| made by a layer, for the last profiled selection, coloured on a log scale. Hover a cell for its value; scroll sideways for long texts.',
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
    this.empty.hidden = hasResults || !!state.heatmap || !!state.progress;
    for (const part of [...this.layers.map((l) => l.section), this.difference.section]) part.root.hidden = !hasResults;
    if (hasResults) {
      this.renderLayers(state, theme);
      this.renderDifference(state, theme);
    }
    this.heatmap.section.root.hidden = !state.heatmap;
    this.renderHeatmap();
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

  private renderLayers(state: ViewState, theme: Theme): void {
    for (const { spec, section, chart } of this.layers) {
      const data = spec.data(state);
      chart.render(data, theme);
      section.setTable(() => layerTable(data, spec.table.caption, spec.table.value, spec.table.error));
    }
  }

  private renderDifference(state: ViewState, theme: Theme): void {
    const { section, chart, picker } = this.difference;
    const diff = differenceChart(state);
    picker.update(
      visibleDatasets(state).map((d) => d.dataset.name),
      resolveComparison(state),
    );
    if (!diff.pair) {
      section.setNote(diff.reason);
      chart.canvas.dataset.points = '{}';
      section.setTable(() => undefined);
      return;
    }
    const pair = diff.pair;
    section.setNote(undefined);
    const colorOf = (name: string) => Math.max(0, allDatasets(state).findIndex((d) => d.name === name));
    chart.render(pair, diff.rows, { a: colorOf(pair.a), b: colorOf(pair.b) }, theme);
    section.setTable(() => differenceTable(pair, diff.rows));
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

  charts(): ChartHandle[] {
    const state = this.state;
    if (!state) return [];
    const handles: ChartHandle[] = [];
    if (allDatasets(state).length > 0) {
      handles.push(...this.layers.map((l) => l.chart));
      if (resolveComparison(state)) handles.push(this.difference.chart);
    }
    if (state.heatmap) handles.push(this.heatmap.view);
    return handles;
  }
}
