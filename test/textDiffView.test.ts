/**
 * Comparing two texts in the extension: trimming a comparison for the views, validating what
 * arrives, the token × point grid and its lines, the two-step selection pairing, reading a file at
 * HEAD, and the whole host path through a real engine child process against the core's own diff.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureModel } from './modelgen';
import { sampleTextDiff } from './webview/fixture';
import { TextDiff } from '../src/core/diff/textDiff';
import { serviceOnEngine } from './support/engineService';
import { GitHeadError, readAtHead } from '../src/extension/gitHead';
import { SelectionPair } from '../src/extension/selectionPair';
import { modelKey } from '../src/extension/settings';
import { parseViewMessage } from '../src/shared/protocol';
import { columnLabel, diffColumns, describeDiffCell, textDiffGrid, textDiffLines, textDiffTable } from '../src/shared/textDiffGrid';
import { parseTextDiffSelection, textDiffSelectionOf, type TextDiffSelection } from '../src/shared/textDiffSelection';

/** A: "the cat sat", B: "the big cat ran": 'big' only in B, 'sat' only in A paired by lcs around them. */
function tiny(): TextDiffSelection {
  return {
    a: { label: 'A', tokens: ['the', 'Ġcat', 'Ġsat'] },
    b: { label: 'B', tokens: ['the', 'Ġbig', 'Ġcat', 'Ġran'] },
    alignment: 'lcs',
    pairs: [
      [0, 0],
      [1, 2],
    ],
    onlyA: [2],
    onlyB: [1, 3],
    layers: [-1, 0, 1],
    l2: [
      [0, 0],
      [0.5, 1],
      [2, 4],
    ],
  };
}

describe('two-text comparison in the views', () => {
  it('orders columns as the texts read: unpaired tokens in their places, marked − (only A) and + (only B)', () => {
    const sel = tiny();
    assert.deepEqual(diffColumns(sel), [
      { kind: 'pair', a: 0, b: 0, pair: 0 },
      { kind: 'onlyB', b: 1 },
      { kind: 'pair', a: 1, b: 2, pair: 1 },
      { kind: 'onlyA', a: 2 },
      { kind: 'onlyB', b: 3 },
    ]);
    const grid = textDiffGrid(sel);
    assert.deepEqual(grid.labels, ['the', '+·big', '·cat', '−·sat', '+·ran']);
    assert.deepEqual(grid.rowLabels, ['emb', '0', '1']);
    assert.equal(grid.rows, 3);
    assert.equal(grid.cols, 5);
    assert.deepEqual(grid.values[2].map((v) => (Number.isNaN(v) ? null : v)), [2, null, 4, null, null]);
    assert.equal(grid.min, 0);
    assert.equal(grid.max, 4);
    assert.deepEqual(grid.rowMax, [0, 1, 4]);
    assert.equal(columnLabel({ ...sel, b: { ...sel.b, tokens: ['a', 'Ġbig', 'Ġcat', 'Ġran'] } }, grid.columns[0]), 'the→a');
  });

  it('describes cells, draws a line per pair across the points, and tabulates the grid', () => {
    const sel = tiny();
    const grid = textDiffGrid(sel);
    assert.match(describeDiffCell(sel, grid, 2, 2), /A token 1 “·cat” · B token 2 “·cat” · layer 1 · L2 distance 4/);
    assert.match(describeDiffCell(sel, grid, 0, 3), /A token 2 “·sat” has no partner in B/);
    assert.match(describeDiffCell(sel, grid, 0, 0), /embedding output/);
    const lines = textDiffLines(sel, 1);
    assert.deepEqual(lines.layers, [-1, 0, 1]);
    assert.equal(lines.series.length, 1);
    assert.equal(lines.series[0].name, '2: ·cat');
    assert.deepEqual(lines.series[0].points.map((p) => p.value), [0, 1, 4]);
    assert.equal(textDiffLines(sel).series.length, 2, 'never more lines than aligned pairs');
    const table = textDiffTable(sel, grid);
    assert.equal(table.rows.length, 3);
    assert.deepEqual(table.rows[0].slice(0, 3), ['emb', '0', '–']);
  });

  it('trims a long comparison to the first tokens of each text, keeping pairs and distances together', () => {
    const n = 6;
    const ids = Array.from({ length: n }, (_, i) => i);
    const sel = textDiffSelectionOf(
      {
        a: { label: 'A', ids, tokens: ids.map(String) },
        b: { label: 'B', ids: ids.slice(0, 5), tokens: ids.slice(0, 5).map(String) },
        alignment: { mode: 'position', pairs: ids.slice(0, 5).map((i): [number, number] => [i, i]), onlyA: [5], onlyB: [] },
        points: [{ layer: -1, l2: [0, 1, 2, 3, 4], cosine: [], relL2: [] }],
      },
      3,
    );
    assert.deepEqual(sel.pairs, [
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
    assert.deepEqual(sel.l2, [[0, 1, 2]]);
    assert.deepEqual(sel.onlyA, []);
    assert.deepEqual(sel.totalTokens, { a: 6, b: 5 });
    assert.ok(parseTextDiffSelection(sel));
  });

  it('rejects malformed comparisons (positions outside the texts, missing distances)', () => {
    assert.ok(parseTextDiffSelection(tiny()));
    assert.ok(parseTextDiffSelection(sampleTextDiff()));
    assert.equal(parseTextDiffSelection({ ...tiny(), pairs: [[0, 9]] }), undefined);
    assert.equal(parseTextDiffSelection({ ...tiny(), onlyA: [3] }), undefined);
    assert.equal(parseTextDiffSelection({ ...tiny(), l2: [[0], [1], [2]] }), undefined);
    assert.equal(parseTextDiffSelection({ ...tiny(), l2: [[0, 0]] }), undefined);
    assert.equal(parseTextDiffSelection({ ...tiny(), alignment: 'other' }), undefined);
    assert.equal(parseTextDiffSelection({ ...tiny(), layers: [] }), undefined);
    assert.equal(parseTextDiffSelection('x'), undefined);
  });

  it('accepts the comparison commands from the views and nothing made up', () => {
    for (const command of ['compareSelections', 'compareWithHead', 'compareWithClipboard']) assert.deepEqual(parseViewMessage({ type: 'command', command }), { type: 'command', command });
    assert.equal(parseViewMessage({ type: 'command', command: 'compareTexts' }), undefined);
  });
});

describe('Compare Two Selections: pairing', () => {
  const t = (label: string) => ({ label, text: label });
  it('compares two selections at once, else waits with A for the next selection', () => {
    const pair = new SelectionPair();
    assert.deepEqual(pair.offer([t('x'), t('y'), t('z')]), { kind: 'compare', a: t('x'), b: t('y') });
    assert.equal(pair.offer([]), undefined);
    assert.deepEqual(pair.offer([t('a')]), { kind: 'waiting', a: t('a') });
    assert.deepEqual(pair.pending, t('a'));
    assert.deepEqual(pair.offer([t('b')]), { kind: 'compare', a: t('a'), b: t('b') });
    assert.equal(pair.pending, undefined);
    pair.offer([t('c')]);
    pair.clear();
    assert.deepEqual(pair.offer([t('d')]), { kind: 'waiting', a: t('d') });
    assert.deepEqual(pair.offer([t('e'), t('f')]), { kind: 'compare', a: t('e'), b: t('f') }, 'two selections replace a waiting A');
    assert.equal(pair.pending, undefined);
  });
});

describe('Compare with Previous Version: reading HEAD', () => {
  const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd });

  it('reads a committed file as it was, and says plainly why a file has no previous version', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-head-'));
    const outside = mkdtempSync(path.join(os.tmpdir(), 'lp-nogit-'));
    writeFileSync(path.join(outside, 'x.py'), 'x');
    await assert.rejects(readAtHead(path.join(outside, 'x.py')), (e: Error) => e instanceof GitHeadError && /not in a Git repository/.test(e.message));
    git(dir, 'init', '-q');
    writeFileSync(path.join(dir, 'a.py'), 'old\n');
    await assert.rejects(readAtHead(path.join(dir, 'a.py')), /no commits yet/);
    git(dir, 'add', 'a.py');
    git(dir, 'commit', '-qm', 'first');
    writeFileSync(path.join(dir, 'a.py'), 'new\n');
    writeFileSync(path.join(dir, 'b.py'), 'b\n');
    assert.equal(await readAtHead(path.join(dir, 'a.py')), 'old\n');
    await assert.rejects(readAtHead(path.join(dir, 'b.py')), /not in the last commit yet/);
  });
});

describe('two texts compared through the engine process', function () {
  this.timeout(180_000);
  const A = 'def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n';
  const B = 'def fib(k):\n    return k if k < 2 else fib(k - 1) + fib(k - 2)\n';

  it('compares with the loaded model, keeps the comparison, and equals the core diff of the same texts', async () => {
    const model = await ensureModel('optimum-llama');
    const { settings, store, engine, ui, service } = serviceOnEngine(model.dir, { maxTokens: 64, batchSize: 2 });
    try {
      const first = await service.diffTexts({ label: 'A', text: A }, { label: 'B', text: B });
      const again = await service.diffTexts({ label: 'A', text: A }, { label: 'B', text: A });
      assert.equal(ui.logs.filter((l) => l.startsWith('Loaded')).length, 1, 'the diff opens the model the engine holds, without reloading');
      assert.deepEqual(again.onlyA, []);
      assert.ok(again.l2.every((row) => row.every((v) => Math.abs(v) < 1e-4)), 'a text against itself has no distance');
      assert.deepEqual(first.layers, [-1, 0, 1, 2]);
      assert.ok(first.l2[0].some((v) => v > 0), 'the renamed tokens part at the embedding');
      assert.deepEqual(service.viewState().textDiff, again, 'the last comparison replaces the one before');
      // Longer than one pass: windows continued through the KV cache, equal to one pass of the core.
      const long = await service.diffTexts({ label: 'long A', text: A.repeat(4) }, { label: 'long B', text: B.repeat(4) });
      assert.ok(long.a.tokens.length > 64, 'the long text needs more than one window');
      const core = await TextDiff.open(settings.model);
      try {
        const close = (got: number[][], expected: number[][]) => got.forEach((row, p) => row.forEach((v, k) => assert.ok(Math.abs(v - expected[p][k]) < 1e-4 * Math.max(1, expected[p][k]))));
        const expected = textDiffSelectionOf(await core.compareTexts({ a: { label: 'A', text: A }, b: { label: 'B', text: B } }, { maxTokens: 64 }));
        assert.deepEqual({ ...first, l2: [] }, { ...expected, l2: [] });
        close(first.l2, expected.l2);
        const onePass = textDiffSelectionOf(await core.compareTexts({ a: { label: 'long A', text: A.repeat(4) }, b: { label: 'long B', text: B.repeat(4) } }, { maxTokens: 4096 }));
        close(long.l2, onePass.l2);
      } finally {
        await core.dispose();
      }
    } finally {
      engine.stop();
    }
  });
  it('refuses a text longer than one pass in the extension\'s words where the model carries no KV cache, keeping the last comparison', async () => {
    const model = await ensureModel('merged-if');
    const { settings, store, engine, service } = serviceOnEngine(model.dir, { maxTokens: 16, batchSize: 1 });
    try {
      const short = await service.diffTexts({ label: 'A', text: 'x = 1' }, { label: 'B', text: 'x = 2' });
      await assert.rejects(service.diffTexts({ label: 'long', text: A.repeat(4) }, { label: 'B', text: B }), /long has \d+ tokens, more than the model reads in one pass \(16\), and the model has no KV cache.*Max Tokens setting/);
      assert.deepEqual(service.viewState().textDiff, short, 'a comparison that fails leaves the last one');
      assert.deepEqual(store.get(modelKey(settings.model))?.textDiff, short);
    } finally {
      engine.stop();
    }
  });
});
