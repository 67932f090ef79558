/** Findings in plain words, on a constructed results object whose answer is known by construction. */
import assert from 'node:assert/strict';
import { compareResults } from '../src/core/compare/compare';
import { findings, findingsMarkdown, layerList } from '../src/core/compare/findings';
import type { ProfileResults } from '../src/core/results';
import { resultsOf } from './support/compareFixtures';

/**
 * cpp and python, 4 texts each, 4 layers (absMean per text):
 * layer 0 equal on both; layer 1 twice as high on cpp (100% higher); layer 2 six times as high on
 * python; layer 3 equal and the peak (4.0), varying most from text to text on cpp.
 * Attention's share of each layer's change (substeps absMean): 0.75, 0.25, 0.25, 0.25.
 */
function known(): ProfileResults {
  const r = resultsOf({
    cpp: [[1, 1.1, 0.9, 1], [2, 2.1, 1.9, 2], [0.5, 0.6, 0.4, 0.5], [2, 6, 3, 5]],
    python: [[1, 1.1, 0.9, 1], [1, 1.1, 0.9, 1], [3, 3.3, 2.7, 3], [3.9, 4.1, 4, 4]],
  });
  for (const d of r.datasets) {
    d.layers.forEach((l, i) => {
      const attn = i === 0 ? 3 : 1;
      const s = (mean: number) => ({ mean, std: 0.1, n: 4 });
      l.substeps = [
        { kind: 'attention', mean: s(0), absMean: s(attn), l2: s(attn) },
        { kind: 'mlp', mean: s(0), absMean: s(i === 0 ? 1 : 3), l2: s(1) },
      ];
    });
  }
  return r;
}

describe('findings in plain words', () => {
  it('names the layers that differ, the direction, the size and q; and where there is no difference, with n', () => {
    const results = known();
    const f = findings(results, compareResults(results));
    const cmp = f.sections[0];
    assert.equal(cmp.heading, 'cpp vs python');
    assert.equal(cmp.lines[0], '**Layer 1 changes the stream more on cpp than on python:**');
    assert.match(cmp.lines[1], /^- layer 1: mean \|Δ\| 100% higher \(2 vs 1; 95% CI of the difference 0\.8\d* to 1\.1\d*; q = [0-9.e-]+\)$/);
    assert.equal(cmp.lines[2], '**Layer 2 changes the stream more on python than on cpp:**');
    assert.match(cmp.lines[3], /^- layer 2: mean \|Δ\| 500% higher \(3 vs 0\.5; .*q = /);
    assert.equal(cmp.lines[4], 'No difference at this sample size (n = 4 cpp, 4 python) in layers 0, 3.');
  });

  it('reports the largest, most variable and peak layers and the attention/MLP share', () => {
    const results = known();
    const md = findingsMarkdown(results, compareResults(results));
    assert.match(md, /^# Findings: test-model\n\nMetric: mean \|Δ\| \(`absMean`\) per text\. Welch's t-test per layer, Benjamini–Hochberg q/);
    assert.match(md, /## Which layers change the stream most \(largest mean \|Δ\|\)\n\n- cpp: layer 3 \(4\), layer 1 \(2\), layer 0 \(1\)\n- python: layer 3 \(4\), layer 2 \(3\), layer 0 \(1\)/);
    assert.match(md, /- cpp: layer 3 \(CV 0\.46\),/);
    assert.match(md, /- cpp: layer 3 \(the last layer\), mean \|Δ\| 4, 2\.7× the median layer/);
    assert.match(md, /Every dataset peaks at layer 3\./);
    assert.match(md, /- cpp: attention 38% on average \(from 25% in layer 1 to 75% in layer 0\); the MLP carries more in layers 1–3; attention carries more in layer 0/);
  });

  it('says when nothing differs, with the smallest q, and when a side has too few texts', () => {
    const same = resultsOf({ a: [[1, 2, 3], [1, 2, 3]], b: [[1, 2, 3.1], [1, 2, 3]] });
    const f = findings(same, compareResults(same));
    assert.match(f.sections[0].lines[0], /^No layer differs between a and b at this sample size \(n = 3 a, 3 b\); the smallest q is [0-9.]+ \(layer 0\)\.$/);
    const one = resultsOf({ a: [[1], [2]], b: [[1, 2, 3], [1, 2, 3]] });
    assert.deepEqual(findings(one, compareResults(one)).sections[0].lines, ['Layers 0, 1 cannot be tested: a has fewer than 2 texts.']);
  });

  it('vs rest names the datasets pooled; no sub-steps says so', () => {
    const r = resultsOf({ a: [[1, 1.1, 0.9]], b: [[2, 2.1, 1.9]], c: [[2, 2.2, 1.8]] });
    const f = findings(r, compareResults(r, { selection: { kind: 'vsRest', name: 'a' } }));
    assert.equal(f.sections[0].heading, 'a vs the rest (b, c)');
    assert.match(f.sections[0].lines[0], /^\*\*Layer 0 changes the stream more on the rest \(b, c\) than on a:\*\*$/);
    assert.match(f.sections.at(-1)!.lines[0], /no attention\/MLP split/);
  });

  it('for cosine, the lower side is the one whose stream changes more', () => {
    const r = resultsOf({ a: [[0.9, 0.91, 0.89]], b: [[0.99, 0.98, 1.0]] });
    for (const d of r.datasets) for (const l of d.layers) Object.assign(l, { cosine: l.absMean });
    const f = findings(r, compareResults(r, { metric: 'cosine' }));
    assert.equal(f.sections[0].lines[0], '**Layer 0 changes the stream more on a than on b:**');
    assert.match(f.sections[0].lines[1], /^- layer 0: cosine of resid_pre and resid_post 9\.1% lower \(0\.9 vs 0\.99; 95% CI of the difference -0\.1\d* to -0\.0\d*; q = /);
  });

  it('layer lists read as ranges', () => {
    assert.equal(layerList([5, 0, 1, 2, 7, 8], false), 'layers 0–2, 5, 7, 8');
    assert.equal(layerList([3], true), 'Layer 3');
  });
});
