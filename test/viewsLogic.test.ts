/**
 * The panel's comparison, new charts, drill-down, export captions, palette and the selection slot:
 * host and shared logic, without VS Code. Expected statistics come from SciPy 1.17
 * (scipy.stats.ttest_ind_from_stats(..., equal_var=False), scipy.stats.t.ppf(0.975, df),
 * scipy.stats.false_discovery_control), Hedges' g from the exact J in Python's math.lgamma;
 * the commands are in the comments.
 */
import assert from 'node:assert/strict';
import { comparisonState, resolveRequest, visibleResults } from '../src/extension/comparisonState';
import { ResultsStore, type StateStorage } from '../src/extension/resultsStore';
import { RESULTS_SCHEMA, type DatasetResult, type LayerSummary, type ProfileResults, type Summary, type TextRecord } from '../src/core/results';
import { attentionShareChart, blockInfluenceChart, colorIndexOf, isEmptyChart, layerChart, niceStep, relativeSemChart, visibleDatasets, yRange } from '../src/shared/chartData';
import { comparisonChart, comparisonLabel, pickPair } from '../src/shared/comparisonData';
import { comparisonTable, comparisonTooltip, formatP } from '../src/shared/comparisonText';
import { drillDown, shortPath } from '../src/shared/drillDown';
import { exportCaption } from '../src/shared/exportCaption';
import { OKABE_ITO_DARK, OKABE_ITO_LIGHT, seriesShape, VIRIDIS } from '../src/shared/palette';
import { parseViewMessage, PROTOCOL_VERSION, type ComparisonView, type ViewState } from '../src/shared/protocol';

const S = (mean: number, std: number | null, n: number): Summary => ({ mean, std, n });

function layer(i: number, abs: Summary, extra: Partial<LayerSummary> = {}): LayerSummary {
  return { layer: i, absMean: abs, mean: S(0, 0, abs.n), l2: abs, residL2: abs, ...extra };
}

function ds(name: string, abs: Summary[], extra: (i: number) => Partial<LayerSummary> = () => ({}), records: TextRecord[] = []): DatasetResult {
  return { name, texts: abs[0]?.n ?? 0, tokens: 0, skipped: [], records, moments: { layers: [] }, layers: abs.map((a, i) => layer(i, a, extra(i))) };
}

function results(datasets: DatasetResult[]): ProfileResults {
  return {
    schema: RESULTS_SCHEMA,
    model: { id: 'org/model', file: 'model.onnx', sha256: 'a'.repeat(64), numLayers: 3, dtype: 'q8' },
    runtime: { tool: '0', onnxruntime: '0', executionProvider: 'cpu', threads: 1 },
    settings: { maxTokens: 1, batchSize: 1, maxFileBytes: 1 },
    datasets,
  };
}

function viewState(r: ProfileResults, extra: Partial<ViewState> = {}): ViewState {
  const hidden = extra.hidden ?? [];
  return { version: PROTOCOL_VERSION, model: { id: 'org/model', state: 'ready' }, hidden, results: r, ...comparisonState(r, hidden, extra.comparison), ...extra };
}

const close = (actual: number | null | undefined, expected: number, tol = 1e-6, what = '') => {
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} ≠ ${expected}`);
};

// A: n = 4; C: n = 9; B: one text.
const A = ds('A', [S(0.1, 0.02, 4), S(0.3, 0.06, 4), S(0.5, 0.1, 4)]);
const B = ds('B', [S(0.2, null, 1), S(0.25, null, 1), S(0.7, null, 1)]);
const C = ds('C', [S(0.05, 0.03, 9), S(0.32, 0.03, 9), S(0.2, 0.3, 9)]);

describe('views: comparison computed in the host', () => {
  it('Welch t, df, p, 95% CI, BH q and Hedges g per layer match SciPy', () => {
    const s = comparisonState(results([A, C]), [], { choice: { kind: 'pair', a: 'A', b: 'C' }, metric: 'absMean' });
    assert.ok(s.compare && !('reason' in s.compare));
    const v = s.compare as ComparisonView;
    assert.equal(v.correction, 'bh');
    const [l0, l1, l2] = v.layers;
    // ttest_ind_from_stats(.1,.02,4,.05,.03,9,equal_var=False): t 3.5355339, p 0.0066750787; df 8.7272727; CI 0.0178552 to 0.0821448
    close(l0.t, 3.5355339059, 1e-9, 't0');
    close(l0.df, 8.727272727, 1e-9, 'df0');
    close(l0.p, 0.006675078700569283, 1e-6, 'p0');
    close(l0.ci95?.[0], 0.01785521993876287, 1e-6, 'ci0 low');
    close(l0.ci95?.[1], 0.08214478006123713, 1e-6, 'ci0 high');
    // pooled sd √((3·0.02² + 8·0.03²)/11), d = 0.05 / sd, J(11) = 0.92995981: g = 1.68263874
    close(l0.hedgesG, 1.6826387413495791, 1e-6, 'g0');
    close(l1.p, 0.5641760987280464, 1e-6, 'p1');
    close(l1.df, 3.686635944700461, 1e-9, 'df1');
    close(l2.p, 0.021726962323349478, 1e-6, 'p2');
    // false_discovery_control([p0, p1, p2]) = [0.02002524, 0.5641761, 0.03259044]
    close(l0.q, 0.02002524, 1e-5, 'q0');
    close(l1.q, 0.5641761, 1e-5, 'q1');
    close(l2.q, 0.03259044, 1e-5, 'q2');
    assert.deepEqual(v.layers.map((l) => [l.significant, l.higher]), [[true, 'a'], [false, null], [true, 'a']]);
  });

  it('ranks the chart by p and words the table and tooltip with t, df, p, q and g', () => {
    const st = viewState(results([A, C]), { comparison: { choice: { kind: 'pair', a: 'A', b: 'C' }, metric: 'absMean' } });
    const chart = comparisonChart(st);
    assert.ok(chart.view);
    assert.deepEqual(chart.rows.map((r) => r.layer), [0, 2, 1]);
    const table = comparisonTable(chart.view, chart.rows);
    assert.deepEqual(table.columns, ['Layer', 'Difference', '95% CI', 't', 'df', 'p', 'q', "Hedges' g", 'Significant (q ≤ 0.05)']);
    assert.deepEqual(table.rows[0], ['layer 0', '0.05', '0.01786 to 0.08214', '3.536', '8.727', '0.0067', '0.02', '1.683', 'yes, A higher']);
    assert.equal(table.rows[2][8], 'no');
    const tip = comparisonTooltip(chart.view, chart.rows[0]);
    assert.ok(tip.includes('t = 3.536, df = 8.727') && tip.includes('p = 0.0067, q = 0.02') && tip.includes("Hedges' g = 1.683"), tip.join(' | '));
    assert.equal(comparisonLabel(chart.view), 'A − C');
  });

  it('a side of one text is not tested, and says so', () => {
    const st = viewState(results([A, B]));
    const chart = comparisonChart(st);
    assert.ok(chart.view);
    assert.ok(chart.rows.every((r) => r.p === null && !r.significant && r.degenerate === 'too-few-texts'));
    assert.equal(comparisonTable(chart.view, chart.rows).rows[0][8], 'not tested: a side has fewer than 2 texts');
  });

  it('constant sides with different means: infinite t arrives as null, p = 0', () => {
    const flatA = ds('fa', [S(1, 0, 3)]);
    const flatB = ds('fb', [S(0.5, 0, 3)]);
    const v = comparisonState(results([flatA, flatB]), [], undefined).compare as ComparisonView;
    assert.equal(v.layers[0].t, null);
    assert.equal(v.layers[0].p, 0);
    assert.equal(v.layers[0].degenerate, 'no-variance-different-means');
  });

  it('dataset vs rest pools the other visible datasets', () => {
    const D = ds('D', [S(0.08, 0.02, 5), S(0.31, 0.05, 5), S(0.25, 0.2, 5)]);
    const v = comparisonState(results([A, C, D]), [], { choice: { kind: 'vsRest', name: 'A' }, metric: 'absMean' }).compare as ComparisonView;
    assert.equal(v.b, 'rest');
    assert.deepEqual(v.pooled, ['C', 'D']);
    assert.equal(v.layers[0].b.n, 14);
    // Hidden datasets are not pooled.
    const hidden = comparisonState(results([A, C, D]), ['D'], { choice: { kind: 'vsRest', name: 'A' }, metric: 'absMean' }).compare as ComparisonView;
    assert.deepEqual(hidden.pooled, ['C']);
  });

  it('resolves the request against the visible datasets and metrics', () => {
    assert.deepEqual(resolveRequest(['A', 'B', 'C'], ['absMean'], undefined), { choice: { kind: 'pair', a: 'A', b: 'B' }, metric: 'absMean' });
    assert.deepEqual(resolveRequest(['A', 'B', 'C'], ['absMean'], { choice: { kind: 'pair', a: 'gone', b: 'C' }, metric: 'cosine' }), { choice: { kind: 'pair', a: 'A', b: 'C' }, metric: 'absMean' });
    assert.deepEqual(resolveRequest(['A', 'B'], ['absMean'], { choice: { kind: 'pair', a: 'B', b: 'B' }, metric: 'absMean' }), { choice: { kind: 'pair', a: 'B', b: 'A' }, metric: 'absMean' });
    assert.deepEqual(resolveRequest(['A', 'B'], ['absMean'], { choice: { kind: 'vsRest', name: 'gone' }, metric: 'absMean' }), { choice: { kind: 'pair', a: 'A', b: 'B' }, metric: 'absMean' });
    assert.equal(resolveRequest(['A'], ['absMean'], undefined), undefined);
    const one = comparisonState(results([A, C]), ['C'], undefined);
    assert.ok(one.compare && 'reason' in one.compare && /second dataset/.test(one.compare.reason));
    assert.ok(one.findings, 'findings still describe the one visible dataset');
    assert.deepEqual(visibleResults(results([A, C]), ['C']).datasets.map((d) => d.name), ['A']);
  });

  it('findings follow the comparison shown', () => {
    const s = comparisonState(results([A, C]), [], undefined);
    assert.ok(s.findings);
    assert.equal(s.findings.sections[0].heading, 'A vs C');
    assert.ok(s.findings.sections[0].lines.some((l) => l.includes('layer 0')));
  });

  it('picking the other side’s dataset swaps the pair', () => {
    assert.deepEqual(pickPair({ a: 'A', b: 'B' }, 'a', 'C'), { kind: 'pair', a: 'C', b: 'B' });
    assert.deepEqual(pickPair({ a: 'A', b: 'B' }, 'a', 'B'), { kind: 'pair', a: 'B', b: 'A' });
    assert.deepEqual(pickPair({ a: 'A', b: 'B' }, 'b', 'A'), { kind: 'pair', a: 'B', b: 'A' });
  });

  it('formats p and q', () => {
    assert.equal(formatP(0.006675), '0.0067');
    assert.equal(formatP(0.00001234), '1.2e−5');
    assert.equal(formatP(null), '–');
    assert.equal(formatP(0), '0');
  });
});

describe('views: new per-layer charts', () => {
  const withMetrics = ds('M', [S(0.1, 0.01, 3), S(0.2, 0.02, 3)], (i) => ({
    cosine: S([0.9, 0.6][i], 0.05, 3),
    relChange: S([0.2, 0.5][i], 0.1, 3),
    substeps: [
      { kind: 'attention', mean: S(0, 0, 3), absMean: S([0.3, 0.1][i], 0.01, 3), l2: S(1, 0, 3) },
      { kind: 'mlp', mean: S(0, 0, 3), absMean: S([0.1, 0.3][i], 0.01, 3), l2: S(1, 0, 3) },
    ],
  }));

  it('the standard error as a percentage of the mean, missing for one text', () => {
    const [a, b] = relativeSemChart(viewState(results([A, B]))).series;
    // A: SE = std/2 = 0.01, 0.03, 0.05 over means 0.1, 0.3, 0.5 → 10% at every layer
    a.points.forEach((p, i) => close(p.value, 10, 1e-9, `A layer ${i}`));
    assert.ok(b.points.every((p) => Number.isNaN(p.value)));
  });

  it('Block Influence is 1 − cosine with the cosine’s spread', () => {
    const [s] = blockInfluenceChart(viewState(results([withMetrics]))).series;
    close(s.points[0].value, 0.1);
    close(s.points[1].value, 0.4);
    assert.equal(s.points[0].error, 0.05);
  });

  it('attention’s share is |attn| / (|attn| + |mlp|)', () => {
    const [s] = attentionShareChart(viewState(results([withMetrics]))).series;
    close(s.points[0].value, 0.75);
    close(s.points[1].value, 0.25);
  });

  it('relative change reads its own summary; older results without it are an empty chart', () => {
    const [s] = layerChart(viewState(results([withMetrics])), 'relChange', 'std').series;
    assert.deepEqual(s.points.map((p) => p.value), [0.2, 0.5]);
    assert.ok(isEmptyChart(layerChart(viewState(results([A])), 'relChange', 'std')));
    assert.ok(isEmptyChart(attentionShareChart(viewState(results([A])))));
  });

  it('y axes zoom to the data and its error bars, or stretch to zero', () => {
    const data = layerChart(viewState(results([C])), 'absMean', 'std');
    // values ± std: 0.02..0.08, 0.29..0.35, −0.1..0.5 → span −0.1..0.5; 0.6 / 8 = 0.075 → step 0.1
    const fit = yRange(data, false)!;
    close(fit.min, -0.1);
    close(fit.max, 0.5);
    // 9.9..11.1: 1.2 / 8 = 0.15 → step 0.2 → 9.8..11.2
    const tight = yRange(layerChart(viewState(results([ds('T', [S(10, 0.1, 3), S(11, 0.1, 3)])])), 'absMean', 'std'), false)!;
    close(tight.min, 9.8);
    close(tight.max, 11.2);
    assert.equal(niceStep(0.075), 0.1);
    assert.equal(niceStep(0.15), 0.2);
    assert.equal(niceStep(3), 5);
    assert.equal(yRange(layerChart(viewState(results([ds('T', [S(10, 0.1, 3)])])), 'absMean', 'std'), true)!.min, 0);
    assert.equal(yRange({ layers: [], series: [] }, false), undefined);
  });
});

describe('views: colours', () => {
  it('Okabe–Ito gives 8 distinct colours in each theme, and a shape per dataset', () => {
    assert.equal(new Set(OKABE_ITO_LIGHT).size, 8);
    assert.equal(new Set(OKABE_ITO_DARK).size, 8);
    assert.equal(new Set([0, 1, 2, 3, 4, 5, 6, 7].map(seriesShape)).size, 8);
    assert.equal(VIRIDIS[0], '#440154');
    assert.equal(VIRIDIS.at(-1), '#fde725');
  });

  it('a dataset keeps the colour the host assigned it, also when others are removed or hidden', () => {
    const st = viewState(results([A, C]), { colors: { A: 0, C: 5 }, hidden: ['A'] });
    assert.equal(colorIndexOf(st, 'C'), 5);
    assert.deepEqual(visibleDatasets(st).map((d) => [d.dataset.name, d.colorIndex]), [['C', 5]]);
    assert.equal(colorIndexOf(viewState(results([A, C])), 'C'), 1, 'without assignments: the position');
  });
});

describe('views: drill-down', () => {
  const rec = (path: string, v: number): TextRecord => ({ path, sha256: '', tokens: 10, windows: 1, exact: true, layers: [0, 1].map((i) => ({ mean: 0, absMean: v * (i + 1), l2: v, residL2: 0, relChange: 0, cosine: 1 - v, normGrowth: 1, substeps: [] })) });
  const many = ds('py', [S(0.5, 0.1, 12), S(1, 0.1, 12)], () => ({}), Array.from({ length: 12 }, (_, i) => rec(`/w/py/f${i}.py`, i / 10)));

  it('lists the five highest and five lowest texts at the layer', () => {
    const d = drillDown(viewState(results([many])), 'absMean', 1);
    const [py] = d.datasets;
    assert.equal(py.n, 12);
    assert.deepEqual(py.highest.map((t) => t.path), ['/w/py/f11.py', '/w/py/f10.py', '/w/py/f9.py', '/w/py/f8.py', '/w/py/f7.py']);
    assert.deepEqual(py.lowest.map((t) => t.path), ['/w/py/f0.py', '/w/py/f1.py', '/w/py/f2.py', '/w/py/f3.py', '/w/py/f4.py']);
    close(py.highest[0].value, 2.2, 1e-9, 'layer 1 absMean = 2·1.1');
    assert.ok(py.highest.every((t) => t.opens));
    const bi = drillDown(viewState(results([many])), 'blockInfluence', 0).datasets[0];
    close(bi.highest[0].value, 1.1, 1e-9, '1 − cosine');
  });

  it('a few texts are listed once, highest first; a selection opens only where the host knows its document', () => {
    const sel = ds('selection: a.py:1-3', [S(0.5, null, 1), S(1, null, 1)], () => ({}), [rec('selection: a.py:1-3', 0.3)]);
    const d = drillDown(viewState(results([sel]), { selection: 'selection: a.py:1-3' }), 'absMean', 0);
    assert.equal(d.datasets[0].highest.length, 1);
    assert.equal(d.datasets[0].lowest.length, 0);
    assert.equal(d.datasets[0].highest[0].opens, false);
    const known = drillDown(viewState(results([sel]), { selection: 'selection: a.py:1-3', withOrigin: ['selection: a.py:1-3'] }), 'absMean', 0);
    assert.equal(known.datasets[0].highest[0].opens, true);
  });

  it('results without records say why, and `only` limits the datasets', () => {
    const d = drillDown(viewState(results([many, A])), 'absMean', 0);
    assert.match(d.datasets[1].reason ?? '', /older file/);
    assert.deepEqual(drillDown(viewState(results([many, A])), 'absMean', 0, 5, ['A']).datasets.map((x) => x.name), ['A']);
    assert.equal(shortPath('/home/u/data/py/a.py'), '…/py/a.py');
  });
});

describe('views: export captions', () => {
  it('title, metric, model and each shown dataset’s n', () => {
    const c = exportCaption(viewState(results([A, C]), { hidden: ['C'] }), 'How much?', 'absolute mean');
    assert.deepEqual(c, { title: 'How much?', lines: ['Metric: absolute mean', 'Model: org/model, q8', 'Datasets: A (n = 4)'] });
    assert.equal(exportCaption(viewState(results([A, C])), 't', 'm', ['A', 'C']).lines[2], 'Datasets: A (n = 4), C (n = 9)');
  });
});

class MemoryStorage implements StateStorage {
  data = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  update(key: string, value: unknown): Thenable<void> {
    this.data.set(key, JSON.parse(JSON.stringify(value)));
    return Promise.resolve();
  }
}

describe('views: the selection slot and stored choices', () => {
  const base = (): Omit<ProfileResults, 'datasets'> => {
    const { datasets: _d, ...rest } = results([]);
    return rest;
  };
  const sel = (name: string) => ds(name, [S(0.5, null, 1)]);

  it('the next selection replaces the last one; a kept one stays', async () => {
    const store = new ResultsStore(new MemoryStorage());
    await store.putDataset('m', base(), A);
    await store.putSelection('m', base(), sel('selection: a.py:1-2'));
    await store.putSelection('m', base(), sel('selection: a.py:5-9'));
    assert.deepEqual(store.get('m')!.results.datasets.map((d) => d.name), ['A', 'selection: a.py:5-9']);
    assert.equal(store.get('m')!.selection, 'selection: a.py:5-9');
    await store.keepSelection('m', 'kept');
    assert.equal(store.get('m')!.selection, undefined);
    await store.putSelection('m', base(), sel('selection: b.py:1-1'));
    assert.deepEqual(store.get('m')!.results.datasets.map((d) => d.name), ['A', 'kept', 'selection: b.py:1-1']);
  });

  it('a selection never overwrites a kept dataset of the same name', async () => {
    const store = new ResultsStore(new MemoryStorage());
    await store.putSelection('m', base(), sel('selection: a.py:1-2'));
    await store.keepSelection('m');
    await store.putSelection('m', base(), sel('selection: a.py:1-2'));
    assert.deepEqual(store.get('m')!.results.datasets.map((d) => d.name), ['selection: a.py:1-2', 'selection: a.py:1-2 (2)']);
  });

  it('colours are assigned once: removing a dataset does not shift the others', async () => {
    const store = new ResultsStore(new MemoryStorage());
    for (const d of [A, B, C]) await store.putDataset('m', base(), d);
    assert.deepEqual(store.get('m')!.colors, { A: 0, B: 1, C: 2 });
    await store.remove('m', 'A');
    assert.deepEqual(store.get('m')!.colors, { B: 1, C: 2 });
    await store.putDataset('m', base(), ds('D', [S(1, 0.1, 2)]));
    assert.equal(store.get('m')!.colors!.D, 0, 'the lowest free colour');
    await store.rename('m', 'C', 'C2');
    assert.equal(store.get('m')!.colors!.C2, 2);
  });

  it('an old stored {a, b} comparison reads as a pair on absMean', () => {
    const storage = new MemoryStorage();
    storage.data.set('layerProfiler.results', { version: 1, byModel: { m: { results: results([A, C]), hidden: [], comparison: { a: 'C', b: 'A' } } } });
    const store = new ResultsStore(storage);
    assert.deepEqual(store.get('m')!.comparison, { choice: { kind: 'pair', a: 'C', b: 'A' }, metric: 'absMean' });
    assert.deepEqual(store.get('m')!.colors, { A: 0, C: 1 });
  });

  it('validates the new view messages', () => {
    assert.deepEqual(parseViewMessage({ type: 'setComparison', request: { choice: { kind: 'vsRest', name: 'A' }, metric: 'cosine' } }), { type: 'setComparison', request: { choice: { kind: 'vsRest', name: 'A' }, metric: 'cosine' } });
    assert.equal(parseViewMessage({ type: 'setComparison', request: { choice: { kind: 'pair', a: 'A' }, metric: 'absMean' } }), undefined);
    assert.equal(parseViewMessage({ type: 'setComparison', request: { choice: { kind: 'pair', a: 'A', b: 'B' }, metric: 'rm' } }), undefined);
    assert.equal(parseViewMessage({ type: 'setComparison', a: 'A', b: 'B' }), undefined);
    assert.deepEqual(parseViewMessage({ type: 'openText', dataset: 'py', path: '/a.py' }), { type: 'openText', dataset: 'py', path: '/a.py' });
    assert.equal(parseViewMessage({ type: 'openText', dataset: 'py' }), undefined);
    assert.deepEqual(parseViewMessage({ type: 'keepSelection' }), { type: 'keepSelection' });
  });
});

describe('views: findings export', () => {
  it('the Markdown names the comparison the panel shows', async () => {
    const { findingsMarkdownFor } = await import('../src/extension/comparisonState');
    const md = findingsMarkdownFor(results([A, C]), [], { choice: { kind: 'pair', a: 'C', b: 'A' }, metric: 'absMean' });
    assert.match(md, /^# Findings: org\/model/);
    assert.match(md, /## C vs A/);
  });
});
