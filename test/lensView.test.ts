/**
 * Logit Lens on Selection: the pure logic (trimming a lens run for the views, validating what
 * arrives, the grid, its shading, the editor's per-token predictions and hover, stored state) and
 * the whole host path, through a real engine child process on a generated model, against the core
 * lens's own output for the same text.
 */
import assert from 'node:assert/strict';
import { ensureModel } from './modelgen';
import { sampleLens } from './webview/fixture';
import type { LensText } from '../src/core/lens/lensResults';
import { LogitLens } from '../src/core/lens/logitLens';
import { serviceOnEngine } from './support/engineService';
import { ResultsStore, type StateStorage } from '../src/extension/resultsStore';
import { modelKey } from '../src/extension/settings';
import { codeToken, tokenHoverMarkdown } from '../src/extension/tokenHover';
import { describeLensGrid, lensCellLines, lensGrid, lensShadePosition, lensTable } from '../src/shared/lensGrid';
import { lensSelectionOf, lensTokenPredictions, parseLensSelection, settleScores, type LensSelection } from '../src/shared/lensSelection';
import { parseUiState } from '../webview/uiState';

/** A 3-token text through a 3-point lens (embed, layer 0, layer 1), k = 2. */
function tinyLens(): LensText {
  const top = (a: [number, string, number], b: [number, string, number]) => [
    { id: a[0], token: a[1], p: a[2] },
    { id: b[0], token: b[1], p: b[2] },
  ];
  return {
    label: 'x.py:1',
    ids: [10, 11, 12],
    tokens: ['def', 'Ġf', '('],
    points: [
      { layer: -1, entropy: [4, 5, 6], top: [top([10, 'def', 0.2], [1, 'x', 0.1]), top([11, ' f', 0.3], [1, 'x', 0.1]), top([12, '(', 0.1], [1, 'x', 0.05])], nextLogProb: [-3, -4, null], klToFinal: [1, 2, 3] },
      { layer: 0, entropy: [2, 3, 1], top: [top([11, ' f', 0.5], [1, 'x', 0.1]), top([1, 'x', 0.4], [12, '(', 0.3]), top([2, ')', 0.6], [1, 'x', 0.1])], nextLogProb: [-0.7, -1.2, null], klToFinal: [0.5, 0.4, 0.1] },
      { layer: 1, entropy: [1, 2, 0.5], top: [top([11, ' f', 0.9], [1, 'x', 0.05]), top([12, '(', 0.7], [1, 'x', 0.1]), top([2, ')', 0.8], [1, 'x', 0.1])], nextLogProb: [-0.1, -0.36, null], klToFinal: [0, 0, 0] },
    ],
  };
}

describe('logit lens on a selection: pure logic', () => {
  it('keeps the first tokens with the actual next token of each, and says how many there were', () => {
    const whole = lensSelectionOf(tinyLens(), 2);
    assert.deepEqual(whole.layers, [-1, 0, 1]);
    assert.deepEqual(whole.nextIds, [11, 12, -1]);
    assert.equal(whole.totalTokens, undefined);
    const cut = lensSelectionOf(tinyLens(), 2, [[0, 3], [3, 5], [5, 6]], 2);
    assert.deepEqual(cut.tokens, ['def', 'Ġf']);
    assert.deepEqual(cut.nextIds, [11, 12], 'the last kept token still knows its next token');
    assert.deepEqual(cut.offsets, [[0, 3], [3, 5]]);
    assert.equal(cut.totalTokens, 3);
    for (const p of cut.points) assert.ok(p.entropy.length === 2 && p.top.length === 2 && p.nextLogProb.length === 2);
    assert.ok(!('klToFinal' in cut.points[0]), 'what the views do not draw is not kept');
  });

  it('accepts a well-formed lens selection and rejects malformed ones', () => {
    const good = lensSelectionOf(tinyLens(), 2, [[0, 3], null, [5, 6]]);
    assert.equal(parseLensSelection(JSON.parse(JSON.stringify(good))) !== undefined, true);
    assert.ok(parseLensSelection(sampleLens()));
    const broken: [string, (s: LensSelection) => unknown][] = [
      ['not an object', () => 'lens'],
      ['a short entropy row', (s) => ((s.points[1].entropy = [1]), s)],
      ['a point missing', (s) => ((s.points = s.points.slice(1)), s)],
      ['an empty top-k', (s) => ((s.points[0].top[1] = []), s)],
      ['a top entry without p', (s) => ((s.points[2].top[0] = [{ id: 1, token: 'x' } as never]), s)],
      ['a string for a log-probability', (s) => ((s.points[0].nextLogProb[0] = '0' as never), s)],
      ['offsets of the wrong length', (s) => ((s.offsets = [[0, 1]]), s)],
      ['next ids of the wrong length', (s) => ((s.nextIds = [1]), s)],
      ['no points', (s) => ((s.points = []), (s.layers = []), s)],
    ];
    for (const [what, spoil] of broken) assert.equal(parseLensSelection(spoil(JSON.parse(JSON.stringify(good)) as LensSelection)), undefined, what);
  });

  it('builds the grid: a row per point, the top-1 of each cell, the actual next token marked where it is predicted', () => {
    const grid = lensGrid(lensSelectionOf(tinyLens(), 2));
    assert.equal(grid.rows, 3);
    assert.equal(grid.cols, 3);
    assert.deepEqual(grid.rowLabels, ['embed', '0', '1 out']);
    assert.deepEqual(grid.tokens, ['def', '·f', '(']);
    assert.deepEqual(grid.next, ['·f', '(', null]);
    assert.deepEqual(grid.cells.map((row) => row.map((c) => c.token)), [['def', '·f', '('], ['·f', 'x', ')'], ['·f', '(', ')']]);
    assert.deepEqual(grid.cells.map((row) => row.map((c) => c.correct)), [[false, false, false], [true, false, false], [true, true, false]]);
    assert.deepEqual(grid.cells[1][1].top.map((t) => t.correct), [false, true], 'the second guess is marked when it is the actual next token');
    assert.equal(grid.maxEntropy, 6);
    assert.match(describeLensGrid(grid, 'x.py:1'), /right at 2 of 2 positions; 1 out is the first point to get the most right \(2\)/);
    const table = lensTable(grid, 'x.py:1');
    assert.equal(table.rows.length, 3);
    assert.deepEqual(table.rows[2], ['1 out', '·f (0.900) ✓', '( (0.700) ✓', ') (0.800)']);
  });

  it('shades by top-1 probability, or by entropy over the grid’s largest', () => {
    const grid = lensGrid(lensSelectionOf(tinyLens(), 2));
    assert.equal(lensShadePosition(grid, 2, 0, 'probability'), 0.9);
    assert.equal(lensShadePosition(grid, 0, 2, 'entropy'), 1);
    assert.equal(lensShadePosition(grid, 1, 1, 'entropy'), 0.5);
    assert.ok(Number.isNaN(lensShadePosition(grid, 5, 0, 'probability')), 'no cell, no colour');
    grid.cells[0][0].entropy = Number.NaN;
    assert.ok(Number.isNaN(lensShadePosition(grid, 0, 0, 'entropy')));
    grid.cells[0][1].p = 1.2;
    assert.equal(lensShadePosition(grid, 0, 1, 'probability'), 1, 'clamped to the scale');
  });

  it('a cell’s hover names the token, the layer, the actual next token and the top-k with probabilities', () => {
    const grid = lensGrid(lensSelectionOf(tinyLens(), 2));
    assert.deepEqual(lensCellLines(grid, 2, 1), ['token 1 “·f” · layer 1 (the model’s own output)', 'actual next token: “(”', '1. “(”  0.700  ✓ actual next', '2. “x”  0.100', 'entropy 2.00 nats · p(actual next) 0.698']);
    assert.equal(lensCellLines(grid, 0, 2)[1], 'next token: not known (end of the kept text)');
    assert.match(lensCellLines(grid, 0, 0)[0], /embedding output/);
  });

  it('the editor keeps per token each point’s top-1, and how late the prediction settles', () => {
    const pred = lensTokenPredictions(lensSelectionOf(tinyLens(), 2, [[0, 3], [3, 5], [5, 6]]));
    assert.deepEqual(pred.next, ['Ġf', '(', null]);
    assert.deepEqual(pred.top1[1], [{ token: ' f', p: 0.3, correct: false }, { token: 'x', p: 0.4, correct: false }, { token: '(', p: 0.7, correct: true }]);
    // Token 0: ' f' from layer 0 on (point 1 of 3 → 0.5); token 1: only the output (1); token 2: ')' from layer 0 (0.5).
    assert.deepEqual(settleScores(pred), [0.5, 1, 0.5]);
  });

  it('the token hover lists per layer the change and the prediction in one table, escaping what breaks Markdown', () => {
    const pred = lensTokenPredictions(lensSelectionOf(tinyLens(), 2, [[0, 3], [3, 5], [5, 6]]));
    const profile = { tokens: ['def', 'Ġf', '('], absMean: [[1, 2, 4], [0.5, 0.5, 0.5]], l2: [[1, 1, 1], [1, 1, 1]] };
    const md = tokenHoverMarkdown('x.py:1', 'Ġf', 1, profile, pred);
    const lines = md.split('\n');
    assert.ok(lines[0].includes('`·f`') && lines[0].includes('x.py:1'));
    assert.ok(md.includes('the actual next token is `(`'));
    assert.ok(lines.includes('| layer | abs mean Δ | relative to the layer\'s top token | predicts next | p |'));
    assert.ok(lines.includes('| embed |  |  | `·f` | 0.300 |'), 'the embedding output has no layer change');
    assert.ok(lines.includes('| 0 | 2.00 | ██████ | `x` | 0.400 |'));
    assert.ok(lines.includes('| 1 (output) | 0.500 | ████████████ | `(` ✓ | 0.700 |'));
    const lensOnly = tokenHoverMarkdown('x.py:1', 'def', 0, undefined, pred);
    assert.ok(lensOnly.split('\n').includes('| 0 | `·f` ✓ | 0.500 |'));
    const profileOnly = tokenHoverMarkdown('x.py:1', 'def', 0, profile, undefined);
    assert.ok(profileOnly.split('\n').includes('| 0 | 1.00 | ███ |') && !profileOnly.includes('predicts'));
    assert.equal(codeToken('a|b`c'), '`a∣bˋc`');
  });

  it('stores a lens for a model without results, keeps it beside datasets, and drops a malformed one on load', async () => {
    const data = new Map<string, unknown>();
    const storage: StateStorage = { get: <T>(k: string) => data.get(k) as T | undefined, update: (k, v) => (data.set(k, JSON.parse(JSON.stringify(v))), Promise.resolve()) };
    const store = new ResultsStore(storage);
    const base = { schema: 'layer-profiler/profile@2', model: { id: 'm', file: 'f', sha256: 'a', architecture: 'x', numLayers: 2, hiddenSize: 4, dtype: 'fp32' }, runtime: { tool: '0', onnxruntime: '1', executionProvider: 'cpu', threads: 1 }, settings: { maxTokens: 8, batchSize: 1, maxFileBytes: 1 }, provenance: { createdAt: 'now' } } as never;
    const lens = lensSelectionOf(tinyLens(), 2);
    await store.setLens('m', base, lens);
    assert.equal(store.get('m')?.results.datasets.length, 0);
    assert.deepEqual(new ResultsStore(storage).get('m')?.lens, lens, 'the lens survives a reload');
    const stored = data.get('layerProfiler.results') as { byModel: Record<string, { lens: { points: unknown[] } }> };
    stored.byModel.m.lens.points = [];
    assert.equal(new ResultsStore(storage).get('m')?.lens, undefined);
  });

  it('remembers the shading choice, and reads an unknown one as probability', () => {
    assert.equal(parseUiState({ version: 1, lensShade: 'entropy' }).lensShade, 'entropy');
    assert.equal(parseUiState({ version: 1, lensShade: 'loudness' }).lensShade, 'probability');
    assert.equal(parseUiState({ version: 1 }).lensShade, 'probability');
  });
});

describe('logit lens on a selection through the engine process', function () {
  this.timeout(180_000);
  const TEXT = 'def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n';

  it('profiles and lenses with one loaded model; the lens equals the core lens of the same text', async () => {
    const model = await ensureModel('optimum-llama');
    const { settings, store, engine, ui, service } = serviceOnEngine(model.dir, { maxTokens: 16, batchSize: 2 });
    try {
      await service.profileText('fib.py:1–2', TEXT);
      const lens = await service.lensText('fib.py:1–2', TEXT);
      assert.equal(ui.logs.filter((l) => l.startsWith('Loaded')).length, 1, 'the lens opens the model the profiler holds, without reloading');
      assert.deepEqual(lens.layers, [-1, 0, 1, 2]);
      assert.equal(lens.k, 5);
      assert.ok(lens.offsets && lens.offsets.length === lens.tokens.length && lens.offsets.some(Boolean));
      const state = service.viewState();
      assert.deepEqual(state.lens, lens);
      assert.ok(state.heatmap, 'the profile of the selection is kept beside its lens');
      assert.deepEqual(store.get(modelKey(settings.model))?.lens, lens);
      const core = await LogitLens.open(settings.model, { k: 5 });
      try {
        const expected = lensSelectionOf(await core.lensText('fib.py:1–2', TEXT, { maxTokens: 16, batchSize: 2 }), 5);
        assert.deepEqual({ ...lens, offsets: undefined }, { ...expected, offsets: undefined });
      } finally {
        await core.dispose();
      }
    } finally {
      engine.stop();
    }
  });
});
