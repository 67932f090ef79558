/**
 * Chart data against numbers computed by hand (in the comments), not against the code's output.
 */
import assert from 'node:assert/strict';
import { RESULTS_SCHEMA, type DatasetResult, type Summary } from '../src/core/results';
import {
  displayToken,
  heatmapGrid,
  heatPosition,
  layerChart,
  pointCounts,
  stdOfMean,
  variance,
  varianceChart,
  visibleDatasets,
} from '../src/shared/chartData';
import { describeLayerChart, formatValue, layerTable } from '../src/shared/chartText';
import { PROTOCOL_VERSION, type ViewState } from '../src/shared/protocol';

const S = (mean: number, std: number | null, n: number): Summary => ({ mean, std, n });

/** A dataset whose layer i has absMean abs[i] and mean means[i] (mean defaults to 0 ± 0). */
function ds(name: string, abs: Summary[], means: Summary[] = abs.map((a) => S(0, 0, a.n))): DatasetResult {
  return {
    name,
    texts: abs[0]?.n ?? 0,
    tokens: 0,
    skipped: [],
    records: [],
    moments: { layers: [] },
    layers: abs.map((a, layer) => ({ layer, absMean: a, mean: means[layer], l2: a, residL2: a })),
  };
}

function state(datasets: DatasetResult[], extra: Partial<ViewState> = {}): ViewState {
  return {
    version: PROTOCOL_VERSION,
    model: { id: 'm', state: 'ready' },
    hidden: [],
    results: {
      schema: RESULTS_SCHEMA,
      model: { id: 'm', file: 'model.onnx', sha256: '', numLayers: 3, dtype: 'fp32' },
      runtime: { tool: '0', onnxruntime: '0', executionProvider: 'cpu', threads: 1 },
      settings: { maxTokens: 1, batchSize: 1, maxFileBytes: 1 },
      datasets,
    },
    ...extra,
  };
}

const close = (actual: number | undefined, expected: number, what = '') => {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);
};

// A: n = 4; C: n = 9; B: one text (std unknown).
const A = ds('A', [S(0.1, 0.02, 4), S(0.3, 0.06, 4), S(0.5, 0.1, 4)], [S(-0.01, 0.004, 4), S(0.02, 0.008, 4), S(0, 0.002, 4)]);
const B = ds('B', [S(0.2, null, 1), S(0.25, null, 1), S(0.7, null, 1)]);
const C = ds('C', [S(0.05, 0.03, 9), S(0.32, 0.03, 9), S(0.2, 0.3, 9)]);

describe('chartData: summaries', () => {
  it('std of the mean is std / √n, and unknown without a std', () => {
    close(stdOfMean(S(1, 2, 4)), 1, '2/√4');
    close(stdOfMean(S(1, 0.3, 9)), 0.1, '0.3/√9');
    assert.equal(stdOfMean(S(1, null, 1)), undefined);
  });

  it('variance is std², and unknown without a std', () => {
    close(variance(S(0, 0.5, 3)), 0.25);
    assert.equal(variance(S(0, null, 1)), undefined);
  });
});

describe('chartData: per-layer charts', () => {
  it('absolute mean with ± std: one point per layer per dataset', () => {
    const data = layerChart(state([A, B]), 'absMean', 'std');
    assert.deepEqual(data.layers, [0, 1, 2]);
    assert.deepEqual(pointCounts(data), { A: 3, B: 3 });
    const [a, b] = data.series;
    assert.deepEqual(a.points.map((p) => [p.value, p.error, p.n]), [[0.1, 0.02, 4], [0.3, 0.06, 4], [0.5, 0.1, 4]]);
    // n = 1: a value but no error bar.
    assert.deepEqual(b.points.map((p) => [p.value, p.error]), [[0.2, undefined], [0.25, undefined], [0.7, undefined]]);
    assert.ok(b.points.every((p) => !('error' in p)));
  });

  it('mean with ± std uses the signed mean', () => {
    const [a] = layerChart(state([A]), 'mean', 'std').series;
    assert.deepEqual(a.points.map((p) => [p.value, p.error]), [[-0.01, 0.004], [0.02, 0.008], [0, 0.002]]);
  });

  it('absolute mean with ± standard error of the mean', () => {
    const [a, b, c] = layerChart(state([A, B, C]), 'absMean', 'sem').series;
    // 0.02/2, 0.06/2, 0.1/2 and 0.03/3, 0.03/3, 0.3/3
    a.points.forEach((p, i) => close(p.error, [0.01, 0.03, 0.05][i], `A layer ${i}`));
    c.points.forEach((p, i) => close(p.error, [0.01, 0.01, 0.1][i], `C layer ${i}`));
    assert.ok(b.points.every((p) => p.error === undefined));
  });

  it('variance per layer is std², and missing (NaN) for one text', () => {
    const [a, b] = varianceChart(state([A, B])).series;
    a.points.forEach((p, i) => close(p.value, [0.0004, 0.0036, 0.01][i], `A layer ${i}`));
    assert.ok(b.points.every((p) => Number.isNaN(p.value)));
    assert.equal(b.points.length, 3);
  });

  it('hidden datasets are left out, and the others keep their colour', () => {
    const s = state([A, B, C], { hidden: ['A'] });
    assert.deepEqual(visibleDatasets(s).map((d) => [d.dataset.name, d.colorIndex]), [['B', 1], ['C', 2]]);
    const data = layerChart(s, 'absMean', 'std');
    assert.deepEqual(data.series.map((x) => [x.name, x.colorIndex]), [['B', 1], ['C', 2]]);
  });

  it('zero datasets, or no results at all, give empty charts', () => {
    for (const s of [state([]), { version: PROTOCOL_VERSION, model: { id: 'm', state: 'idle' }, hidden: [] } as ViewState]) {
      const data = layerChart(s, 'absMean', 'std');
      assert.deepEqual(data, { layers: [], series: [] });
      assert.deepEqual(pointCounts(data), {});
      assert.equal(describeLayerChart(data, 'Abs mean'), 'Abs mean: no dataset to show.');
    }
  });

  it('a layer one dataset lacks is a gap, not a shifted point', () => {
    const short = ds('short', [S(1, 0.1, 2)]);
    const data = layerChart(state([A, short]), 'absMean', 'std');
    assert.deepEqual(data.layers, [0, 1, 2]);
    const s = data.series[1].points;
    assert.equal(s[0].value, 1);
    assert.ok(Number.isNaN(s[1].value) && Number.isNaN(s[2].value));
  });
});

describe('chartData: tokens and heatmap', () => {
  it('shows tokens as the model saw them, whitespace made visible', () => {
    assert.equal(displayToken('Ġfoo'), '·foo');
    assert.equal(displayToken('ĠĠĠ'), '···');
    assert.equal(displayToken('Ċ'), '⏎');
    assert.equal(displayToken('ĊĊ'), '⏎⏎');
    assert.equal(displayToken('čĊ'), '⏎');
    assert.equal(displayToken('ĉx'), '→x');
    assert.equal(displayToken('▁the'), '·the');
    assert.equal(displayToken('<0x0A>'), '⏎');
    assert.equal(displayToken(' if\n'), '·if⏎');
    assert.equal(displayToken('foo'), 'foo');
    assert.equal(displayToken(''), '∅');
  });

  it('builds a layers × tokens grid with global and per-layer ranges', () => {
    const g = heatmapGrid({ tokens: ['a', 'Ġb', 'Ċ'], absMean: [[1, 2, 4], [Number.NaN, 1, 1], [3]] });
    assert.equal(g.rows, 3);
    assert.equal(g.cols, 3);
    assert.deepEqual(g.labels, ['a', '·b', '⏎']);
    assert.equal(g.min, 1);
    assert.equal(g.max, 4);
    assert.deepEqual(g.rowMin, [1, 1, 3]);
    assert.deepEqual(g.rowMax, [4, 1, 3]);
    assert.ok(Number.isNaN(g.values[2][1]), 'a short row is padded with NaN');
  });

  it('places cells on a log colour scale', () => {
    const g = heatmapGrid({ tokens: ['a', 'b', 'c'], absMean: [[1, 2, 4], [2, 2, 2]] });
    // global range 1..4: log(2)/log(4) = 0.5; log(4)/log(4) = 1
    close(heatPosition(g, 0, 1, false), 0.5);
    close(heatPosition(g, 0, 2, false), 1);
    close(heatPosition(g, 0, 0, false), 0);
    close(heatPosition(g, 1, 0, false), 0.5);
    // per layer: row 1 is flat, so the middle of the scale
    close(heatPosition(g, 1, 0, true), 0.5);
    assert.ok(Number.isNaN(heatPosition(g, 5, 0, true)));
  });

  it('falls back to a linear scale when values reach zero', () => {
    const g = heatmapGrid({ tokens: ['a', 'b', 'c'], absMean: [[0, 1, 4]] });
    close(heatPosition(g, 0, 1, false), 0.25);
  });

  it('an empty profile gives an empty grid', () => {
    const g = heatmapGrid({ tokens: [], absMean: [] });
    assert.equal(g.rows, 0);
    assert.equal(g.cols, 0);
    assert.ok(Number.isNaN(g.min));
  });
});

describe('chartText', () => {
  it('formats values with four significant digits', () => {
    assert.equal(formatValue(0.0123456), '0.01235');
    assert.equal(formatValue(0.000012345), '1.23e−5');
    assert.equal(formatValue(-2.5), '−2.5');
    assert.equal(formatValue(123456), '1.23e+5');
    assert.equal(formatValue(0), '0');
    assert.equal(formatValue(undefined), '–');
    assert.equal(formatValue(Number.NaN), '–');
  });

  it('layer tables have a row per layer and value/error columns per dataset', () => {
    const t = layerTable(layerChart(state([A, B]), 'absMean', 'std'), 'cap', 'abs mean', 'std');
    assert.deepEqual(t.columns, ['Layer', 'A: abs mean', 'A: ± std', 'B: abs mean', 'B: ± std']);
    assert.deepEqual(t.rows[1], ['1', '0.3', '0.06', '0.25', '–']);
    assert.equal(t.rows.length, 3);
  });
});
