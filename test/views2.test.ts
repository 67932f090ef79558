/**
 * The lens datasets view and the activation-patching grid: Welch's test on lens records against
 * hand-computed float64 values, the findings' words, the host's view of lens datasets, the chart
 * data (mean ± SE), the patching grid's shaping and diverging scale, validation of what arrives,
 * the store's round trip, and both host paths through a real engine process against the core.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureModel } from './modelgen';
import { samplePatch } from './webview/fixture';
import { compareLensDatasets, lensSides, perTextLensValues, summaryOf } from '../src/core/lens/lensCompare';
import { firstReaching, lensFindings } from '../src/core/lens/lensFindings';
import type { LensPointSummary, LensTextRecord } from '../src/core/lens/lensResults';
import { LogitLens } from '../src/core/lens/logitLens';
import { ActivationPatching } from '../src/core/patch/activationPatching';
import { serviceOnEngine } from './support/engineService';
import { lensDatasetsView, resolveLensRequest } from '../src/extension/lensDatasetState';
import { ResultsStore } from '../src/extension/resultsStore';
import { modelKey } from '../src/extension/settings';
import { lensDifferenceView, lensMetricChart } from '../src/shared/lensDatasetChart';
import { parseLensDatasetEntry, parseLensDatasetsView, type LensDatasetEntry } from '../src/shared/lensDatasets';
import { describeMetric, describePatchCell, divergingPosition, patchGrids, patchTable } from '../src/shared/patchGrid';
import { parsePatchSelection } from '../src/shared/patchSelection';
import { parseViewMessage } from '../src/shared/protocol';
import { divergingColor } from '../webview/color';

const pt = (layer: number, v: Partial<LensPointSummary>): LensPointSummary => ({ layer, entropy: 1, nll: 1, top1: 0, agreeFinal: 0, klToFinal: 0, ...v });
const rec = (top1s: number[], nll?: number[]): LensTextRecord => ({ path: 'x', sha256: '0', tokens: 3, points: top1s.map((t, i) => pt(i - 1, { top1: t, ...(nll ? { nll: nll[i] } : {}) })) });

describe('lens datasets: Welch on per-text lens values', () => {
  it('summarises each point over the texts that have a value there (a one-token text has no NLL)', () => {
    const records = [rec([0.1, 0.5], [3, 2]), rec([0.3, 0.7], [5, Number.NaN]), rec([0.2, 0.9], [4, 1])];
    assert.deepEqual(perTextLensValues(records, 2, 'nll'), [[3, 5, 4], [2, 1]]);
    const s = summaryOf([3, 5, 4]);
    assert.equal(s.n, 3);
    assert.ok(Math.abs(s.mean - 4) < 1e-15);
    assert.ok(Math.abs(s.std! - 1) < 1e-15, 'sample std of 3, 5, 4 is 1');
    assert.deepEqual(summaryOf([7]), { mean: 7, std: null, n: 1 });
    assert.equal(summaryOf([]).n, 0);
    const sides = lensSides(records, [-1, 0], 'top1');
    assert.deepEqual(sides.map((s) => s.layer), [-1, 0]);
    assert.ok(Math.abs(sides[1].summary.mean - 0.7) < 1e-15 && Math.abs(sides[1].summary.std! - 0.2) < 1e-12);
  });

  it('compares two datasets per point exactly as Welch’s formulas give (float64 by hand), with BH across points', () => {
    // Point 0: a = 1, 2, 3 and b = 4, 5, 6: diff −3, variances 1 and 1, se = √(2/3), t = −3.674, df = 4.
    const a = { layers: [-1, 0], records: [1, 2, 3].map((v) => rec([v, 0.5 + v / 100])) };
    const b = { layers: [-1, 0], records: [4, 5, 6].map((v) => rec([v, 0.5 + v / 100 - 0.02])) };
    const [p0, p1] = compareLensDatasets(a, b, 'top1');
    assert.equal(p0.layer, -1);
    assert.ok(Math.abs(p0.diff + 3) < 1e-12);
    assert.ok(Math.abs(p0.se! - Math.sqrt(2 / 3)) < 1e-12);
    assert.ok(Math.abs(p0.t! + 3 / Math.sqrt(2 / 3)) < 1e-9);
    assert.ok(Math.abs(p0.df! - 4) < 1e-9, 'equal variances and sizes give df = n1 + n2 − 2');
    // t(4) two-sided: 0.02 < p < 0.05 (critical values 3.747 at 0.02 and 2.776 at 0.05, from tables).
    assert.ok(p0.p! > 0.02 && p0.p! < 0.05, `p ${p0.p}`);
    // 95% CI: diff ± t(0.975, 4) · se with t(0.975, 4) = 2.7764 (tables).
    assert.ok(Math.abs(p0.ci95![0] - (-3 - 2.7764451 * Math.sqrt(2 / 3))) < 1e-5);
    // Point 0: the means of 0.51, 0.52, 0.53 and of 0.54, 0.55, 0.56 each less 0.02.
    const ma = (0.51 + 0.52 + 0.53) / 3;
    const mb = (0.52 + 0.53 + 0.54) / 3;
    assert.ok(Math.abs(p1.diff - (ma - mb)) < 1e-12);
    // BH over two points: the larger p keeps its value, the smaller is min(2p, larger).
    const [lo, hi] = [p0, p1].sort((x, y) => x.p! - y.p!);
    assert.ok(Math.abs(hi.q! - hi.p!) < 1e-15);
    assert.ok(Math.abs(lo.q! - Math.min(2 * lo.p!, hi.p!)) < 1e-15);
  });

  it('says in words which layers know the next token better, and how early each dataset does', () => {
    const points = (mid: number) => [-1, 0, 1, 2, 3].map((l) => pt(l, { top1: l >= mid ? 0.5 : 0.1, agreeFinal: l >= mid ? 0.8 : 0.2 }));
    assert.equal(firstReaching(points(1), (p) => p.agreeFinal, 0.5)?.layer, 1);
    const layers = [
      { layer: 1, a: { mean: 0.5, std: 0.1, n: 10 }, b: { mean: 0.1, std: 0.1, n: 12 }, diff: 0.4, se: 0.04, ci95: [0.3, 0.5] as [number, number], t: 10, df: 19, p: 1e-8, q: 2e-8, hedgesG: 3, significant: true, higher: 'a' as const },
      { layer: 2, a: { mean: 0.5, std: 0.1, n: 10 }, b: { mean: 0.5, std: 0.1, n: 12 }, diff: 0, se: 0.04, ci95: [-0.1, 0.1] as [number, number], t: 0, df: 19, p: 1, q: 1, hedgesG: 0, significant: false, higher: null },
    ];
    const f = lensFindings([{ name: 'cpp', texts: 10, points: points(1) }, { name: 'python', texts: 12, points: points(2) }], { a: 'cpp', b: 'python', metric: 'top1', correction: 'bh', alpha: 0.05, layers });
    const text = f.sections.flatMap((s) => [s.heading, ...s.lines]).join('\n');
    assert.match(text, /Layer 1 knows the next token better on cpp than on python\*\* \(top-1 accuracy higher\)/);
    assert.match(text, /- layer 1: 50% vs 10% \(q = 2\.0e-8\)/);
    assert.match(text, /cpp \(10 texts\): agrees with the output's top-1 on half the positions from layer 1/);
    assert.match(text, /python \(12 texts\): agrees with the output's top-1 on half the positions from layer 2/);
    const emb = lensFindings([], { a: 'cpp', b: 'python', metric: 'top1', correction: 'bh', alpha: 0.05, layers: [{ ...layers[0], layer: -1 }, { ...layers[0], layer: 0 }] });
    assert.match(emb.sections[0].lines[0], /^\*\*The embedding output and layer 0 know the next token better on cpp/);
    // Lower is better for NLL: the side with the lower mean is named.
    const nll = lensFindings([], { a: 'cpp', b: 'python', metric: 'nll', correction: 'bh', alpha: 0.05, layers: [{ ...layers[0], higher: 'b' }] });
    assert.match(nll.sections[0].lines[0], /better on cpp than on python/);
  });

  it('builds the panel’s view: the request resolved, colours kept, summaries per metric, and nothing non-finite', () => {
    const entry = (name: string, values: number[][]): LensDatasetEntry => ({ name, source: `/x/${name}`, texts: values.length, tokens: 9, skipped: 0, layers: [-1, 0], pooled: [pt(-1, {}), pt(0, {})], records: values.map((v) => rec(v, [2, Number.NaN])) });
    const entries = [entry('cpp', [[0, 0.5], [0.2, 0.7]]), entry('python', [[0.1, 0.2], [0.1, 0.4], [0.1, 0.3]])];
    assert.deepEqual(resolveLensRequest(['cpp', 'python'], undefined), { a: 'cpp', b: 'python', metric: 'top1' });
    assert.deepEqual(resolveLensRequest(['cpp', 'python'], { a: 'python', b: 'gone', metric: 'nll' }), { a: 'python', b: 'cpp', metric: 'nll' });
    assert.equal(resolveLensRequest(['cpp'], undefined), undefined);
    const view = lensDatasetsView(entries, (name) => (name === 'cpp' ? 3 : 5), { a: 'python', b: 'cpp', metric: 'top1' });
    assert.deepEqual(view.datasets.map((d) => [d.name, d.colorIndex]), [['cpp', 3], ['python', 5]]);
    const s1 = view.datasets[0].byText.top1[1];
    assert.ok(Math.abs(s1.mean - 0.6) < 1e-15 && Math.abs(s1.std! - Math.sqrt(0.02)) < 1e-15 && s1.n === 2, 'mean and sample std of 0.5 and 0.7');
    // Point 0 has no NLL in any text: its summary crosses as null, never NaN.
    assert.deepEqual(view.datasets[0].byText.nll[1], { mean: null, std: null, n: 0 });
    assert.ok('layers' in view.compare && view.compare.a === 'python' && view.compare.layers.length === 2);
    assert.ok(parseLensDatasetsView(view));
    assert.ok(!JSON.stringify(view).includes('NaN'));
    const chart = lensMetricChart(view, 'top1');
    assert.deepEqual(chart.layers, [-1, 0]);
    const p = chart.series[1].points[1];
    assert.ok(Math.abs(p.value - 0.3) < 1e-12 && Math.abs(p.error! - 0.1 / Math.sqrt(3)) < 1e-12 && p.n === 3, 'mean ± std/√n of 0.2, 0.4, 0.3');
    assert.ok(Number.isNaN(lensMetricChart(view, 'nll').series[0].points[1].value), 'no value: a gap');
    if ('layers' in view.compare) assert.equal(lensDifferenceView(view.compare).request.metric, 'top-1 accuracy');
    const one = lensDatasetsView([entries[0]], () => 0, undefined);
    assert.match((one.compare as { reason: string }).reason, /second folder/);
  });

  it('keeps only well-formed lens datasets and requests from elsewhere', () => {
    const good: LensDatasetEntry = { name: 'a', source: '/a', texts: 1, tokens: 3, skipped: 0, layers: [-1, 0], pooled: [pt(-1, {}), pt(0, {})], records: [rec([0, 1])] };
    assert.ok(parseLensDatasetEntry(good));
    assert.equal(parseLensDatasetEntry({ ...good, records: [rec([0])] }), undefined, 'a record with a point missing');
    assert.equal(parseLensDatasetEntry({ ...good, pooled: [] }), undefined);
    assert.deepEqual(parseViewMessage({ type: 'setLensComparison', request: { a: 'x', b: 'y', metric: 'entropy' } }), { type: 'setLensComparison', request: { a: 'x', b: 'y', metric: 'entropy' } });
    assert.equal(parseViewMessage({ type: 'setLensComparison', request: { a: 'x', b: 'y', metric: 'absMean' } }), undefined);
    for (const command of ['lensFolder', 'patchSelections']) assert.deepEqual(parseViewMessage({ type: 'command', command }), { type: 'command', command });
  });
});

describe('activation patching grid', () => {
  it('labels positions (clean→corrupted where they differ), keeps a row per layer, and sizes the scale to at least ±1', () => {
    const sel = samplePatch();
    const grids = patchGrids(sel);
    assert.deepEqual(grids.map((g) => g.point), ['resid_post', 'attn_out', 'mlp_out']);
    const resid = grids[0];
    assert.deepEqual(resid.labels, ['The', '·capital', '·of', '·France→·Germany', '·is']);
    assert.deepEqual(resid.differs, [false, false, false, true, false]);
    assert.equal(resid.layers.length, 24);
    assert.equal(resid.range, 1);
    assert.equal(resid.min, 0);
    assert.equal(resid.max, 1);
    assert.equal(grids[1].range, 1, 'small effects still span ±1');
    const big = patchGrids({ ...sel, grids: [{ point: 'resid_post', layers: [{ layer: 0, effect: [0, -2.5, 0.5, 1, 1.2] }] }] })[0];
    assert.equal(big.range, 2.5);
    assert.equal(divergingPosition(-2.5, big.range), -1);
    assert.equal(divergingPosition(1, big.range), 0.4);
    assert.equal(divergingPosition(0, big.range), 0);
    assert.equal(divergingPosition(3, 1), 1, 'clamped');
    assert.ok(Number.isNaN(divergingPosition(Number.NaN, 1)));
  });

  it('explains the metric and a cell exactly: the effect, and the metric value it stands for', () => {
    const sel = samplePatch();
    const [resid] = patchGrids(sel);
    assert.match(describeMetric(sel), /logit\(“·Paris”\) − logit\(“·Berlin”\) at the last position .* Clean run: 4\.21, corrupted run: −3\.87/);
    // Layer 15, position 3: effect 2/3; metric = −3.87 + (2/3)(4.21 + 3.87) = 1.5167.
    const tip = describePatchCell(sel, resid, 15, 3);
    assert.match(tip, /resid_post · layer 15 · position 3 “·France” \(clean\) \/ “·Germany” \(corrupted\) · effect 0\.666667 · metric 1\.517/);
    const table = patchTable(sel, patchGrids(sel));
    assert.equal(table.rows.length, 72);
    assert.deepEqual(table.rows[15].slice(0, 5), ['resid_post 15', '0', '0', '0', '0.6667']);
  });

  it('rejects malformed runs: texts of different lengths, grids with a position missing, an unknown point', () => {
    const sel = samplePatch();
    assert.ok(parsePatchSelection(sel));
    assert.ok(parsePatchSelection(JSON.parse(JSON.stringify({ ...sel, grids: [{ point: 'resid_post', layers: [{ layer: 0, effect: [0, null, 0, 1, 1] }] }] }))), 'a non-finite effect arrives as null');
    assert.equal(parsePatchSelection({ ...sel, corrupted: { ...sel.corrupted, ids: [1], tokens: ['x'] } }), undefined);
    assert.equal(parsePatchSelection({ ...sel, grids: [{ point: 'resid_post', layers: [{ layer: 0, effect: [0] }] }] }), undefined);
    assert.equal(parsePatchSelection({ ...sel, grids: [{ point: 'embed', layers: sel.grids[0].layers }] }), undefined);
    assert.equal(parsePatchSelection({ ...sel, metric: { ...sel.metric, clean: 'x' } }), undefined);
  });

  it('colours the diverging scale: neutral at 0, each end at ±1, blended between', () => {
    const blue = { r: 0, g: 0, b: 255, a: 1 };
    const grey = { r: 100, g: 100, b: 100, a: 1 };
    const red = { r: 255, g: 0, b: 0, a: 1 };
    assert.deepEqual(divergingColor(blue, grey, red, 0), grey);
    assert.deepEqual(divergingColor(blue, grey, red, 1), red);
    assert.deepEqual(divergingColor(blue, grey, red, -1), blue);
    assert.deepEqual(divergingColor(blue, grey, red, 0.5), { r: 177.5, g: 50, b: 50, a: 1 });
    assert.deepEqual(divergingColor(blue, grey, red, -7), blue);
  });
});

describe('results store: lens datasets and patching survive a reload', () => {
  it('stores, replaces by name, and drops what no longer parses', async () => {
    const data = new Map<string, unknown>();
    const storage = { get: <T>(k: string) => data.get(k) as T | undefined, update: (k: string, v: unknown) => (data.set(k, JSON.parse(JSON.stringify(v))), Promise.resolve()) };
    const store = new ResultsStore(storage);
    const base = { schema: 'layer-profiler/profile@2' as const, model: { id: 'm', file: 'f', sha256: 's', architecture: 'a', numLayers: 1, hiddenSize: 2, dtype: 'fp32' }, runtime: { tool: 't', onnxruntime: 'o', executionProvider: 'cpu', threads: 1 }, settings: { maxTokens: 8, batchSize: 1, maxFileBytes: 10 }, provenance: { createdAt: 'now' } };
    const entry: LensDatasetEntry = { name: 'cpp', source: '/c', texts: 1, tokens: 3, skipped: 0, layers: [-1, 0], pooled: [pt(-1, {}), pt(0, {})], records: [rec([0, 1])] };
    await store.putLensDataset('m', base, entry);
    await store.putLensDataset('m', base, { ...entry, texts: 2, records: [rec([0, 1]), rec([0, 0])] });
    await store.putLensDataset('m', base, { ...entry, name: 'py' });
    await store.setLensComparison('m', { a: 'py', b: 'cpp', metric: 'entropy' });
    await store.setPatch('m', base, samplePatch());
    const again = new ResultsStore(storage).get('m')!;
    assert.deepEqual(again.lensDatasets!.map((d) => [d.name, d.texts]), [['cpp', 2], ['py', 1]]);
    assert.deepEqual(again.lensComparison, { a: 'py', b: 'cpp', metric: 'entropy' });
    assert.deepEqual(again.patch, samplePatch());
    const raw = data.get('layerProfiler.results') as { byModel: Record<string, { lensDatasets: unknown[]; patch: unknown }> };
    raw.byModel.m.lensDatasets.push({ name: 'broken' });
    raw.byModel.m.patch = { clean: 1 };
    const third = new ResultsStore(storage).get('m')!;
    assert.deepEqual(third.lensDatasets!.map((d) => d.name), ['cpp', 'py']);
    assert.equal(third.patch, undefined);
  });
});

describe('lens folders and activation patching through the engine process', function () {
  this.timeout(300_000);

  it('reads folders through the lens (per-text records equal each text’s own lens means) and patches two texts as the core does', async () => {
    const model = await ensureModel('optimum-llama');
    const { settings, store, engine, ui, service } = serviceOnEngine(model.dir, { maxTokens: 64, batchSize: 2 });
    const work = mkdtempSync(path.join(os.tmpdir(), 'lp-lensdir-'));
    const texts: Record<string, string[]> = {
      cpp: ['int add(int a, int b) { return a + b; }\n', '#include <vector>\nint n(std::vector<int> v) { return v.size(); }\n', 'x'],
      python: ['def add(a, b):\n    return a + b\n', 'for i in range(3):\n    print(i)\n'],
    };
    for (const [name, list] of Object.entries(texts)) {
      mkdirSync(path.join(work, name));
      list.forEach((t, i) => writeFileSync(path.join(work, name, `f${i}.txt`), t));
    }
    try {
      const cpp = await service.lensFolder(path.join(work, 'cpp'), 'cpp');
      await service.lensFolder(path.join(work, 'python'), 'python');
      assert.equal(cpp.texts, 3);
      assert.deepEqual(cpp.layers, [-1, 0, 1, 2]);
      const view = service.viewState().lensDatasets!;
      assert.deepEqual(view.datasets.map((d) => d.name), ['cpp', 'python']);
      assert.ok('layers' in view.compare && view.compare.layers.length === 4);
      assert.deepEqual(store.get(modelKey(settings.model))!.lensDatasets!.map((d) => d.name), ['cpp', 'python']);
      // Each record against the core lens's per-position values of the same text, averaged here.
      const lens = await LogitLens.open(settings.model, { k: 5 });
      try {
        for (const r of cpp.records) {
          const i = Number(path.basename(r.path).slice(1, 2));
          const read = await lens.lensText('t', texts.cpp[i], { maxTokens: 64, batchSize: 1 });
          r.points.forEach((p, k) => {
            const entropy = read.points[k].entropy;
            const nexts = read.points[k].nextLogProb.map((v, t) => ({ v, t })).filter((x): x is { v: number; t: number } => x.v !== null);
            const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
            assert.ok(Math.abs(p.entropy - mean(entropy)) < 1e-5, `${r.path} point ${p.layer} entropy`);
            if (nexts.length === 0) assert.equal(p.nll, null, 'a one-token text has no NLL (null once stored)');
            else {
              assert.ok(Math.abs(p.nll - mean(nexts.map((x) => -x.v))) < 1e-5, `${r.path} point ${p.layer} nll`);
              assert.equal(p.top1, mean(nexts.map((x) => (read.points[k].top[x.t][0].id === read.ids[x.t + 1] ? 1 : 0))));
            }
          });
        }
      } finally {
        await lens.dispose();
      }

      const patching = await ActivationPatching.open(settings.model);
      let clean: string;
      let corrupted: string;
      let expected: Awaited<ReturnType<ActivationPatching['patch']>>;
      try {
        const tokenizer = await patching.getTokenizer();
        clean = tokenizer.decode([1, 5, 9, 14, 3, 22, 7, 8]);
        corrupted = tokenizer.decode([1, 5, 9, 30, 3, 22, 7, 8]);
        expected = await patching.patch({ clean: { label: 'clean', text: clean }, corrupted: { label: 'corrupted', text: corrupted }, batchSize: 8 });
      } finally {
        await patching.dispose();
      }
      const got = await service.patchTexts({ label: 'clean', text: clean }, { label: 'corrupted', text: corrupted });
      assert.equal(ui.logs.filter((l) => l.startsWith('Loaded')).length, 1, 'the model is loaded once for all of it');
      assert.deepEqual({ ...got, grids: [], notes: [] }, { ...expected, grids: [], notes: [] });
      assert.deepEqual(got.grids.map((g) => g.point), expected.grids.map((g) => g.point));
      got.grids.forEach((g, i) => g.layers.forEach((l, j) => l.effect.forEach((e, p) => assert.ok(Math.abs(e - expected.grids[i].layers[j].effect[p]) < 1e-4, `${g.point} ${l.layer} ${p}`))));
      const n = got.corrupted.ids.length;
      const resid = got.grids.find((g) => g.point === 'resid_post')!;
      const last = resid.layers[resid.layers.length - 1].effect;
      assert.ok(Math.abs(last[n - 1] - 1) < 1e-5, 'the last layer at the last position restores the clean metric');
      assert.deepEqual(service.viewState().patch, got);
      await assert.rejects(service.patchTexts({ label: 'a', text: clean }, { label: 'b', text: `${corrupted} more words here` }), /same number of tokens/);
      assert.deepEqual(service.viewState().patch, got, 'a failed run leaves the last one');
    } finally {
      engine.stop();
    }
  });
});
