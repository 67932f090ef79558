/**
 * Comparison statistics against values computed independently with SciPy 1.17 / NumPy (Python 3.11),
 * not with this code. Each expected value below says which Python produced it. The helper used there:
 *
 *   import numpy as np; from scipy import stats, special
 *   def hedges(a, b):   # Hedges' g, pooled sd weighted by n-1, exact J
 *       a, b = np.asarray(a, float), np.asarray(b, float); m = len(a) + len(b) - 2
 *       sp = np.sqrt(((len(a)-1)*a.var(ddof=1) + (len(b)-1)*b.var(ddof=1)) / m)
 *       J = np.exp(special.gammaln(m/2) - special.gammaln((m-1)/2)) / np.sqrt(m/2)
 *       return (a.mean()-b.mean())/sp*J
 *   def row(a, b):
 *       r = stats.ttest_ind(a, b, equal_var=False); ci = r.confidence_interval(0.95)
 *       return dict(t=r.statistic, df=r.df, p=r.pvalue, ci=[ci.low, ci.high], g=hedges(a, b))
 */
import assert from 'node:assert/strict';
import { adjustPValues } from '../src/core/compare/adjust';
import { compareLayers, compareResults, CompareError, type LayerSide } from '../src/core/compare/compare';
import { permutationTest } from '../src/core/compare/permutation';
import { poolSummaries } from '../src/core/compare/pool';
import { toCompareCsv, toCompareJson } from '../src/core/compare/export';
import { correctionJ, welchTest } from '../src/core/compare/welch';
import type { WelchResult } from '../src/core/compare/types';
import type { Summary } from '../src/core/results';
import { resultsOf, summary } from './support/compareFixtures';

function close(actual: number | null | undefined, expected: number, rel = 1e-6, label = ''): void {
  assert.ok(actual !== null && actual !== undefined, `${label}: expected ${expected}, got ${actual}`);
  const tol = rel * Math.max(Math.abs(expected), 1e-12);
  assert.ok(Math.abs(actual - expected) <= tol, `${label}: expected ${expected}, got ${actual} (|diff| ${Math.abs(actual - expected)})`);
}

interface Expected { t: number; df: number; p: number; ci: [number, number]; g: number }

function checkWelch(r: WelchResult, e: Expected, label: string): void {
  close(r.t, e.t, 1e-6, `${label} t`);
  close(r.df, e.df, 1e-6, `${label} df`);
  close(r.p, e.p, 1e-6, `${label} p`);
  close(r.ci95?.[0], e.ci[0], 1e-6, `${label} ci low`);
  close(r.ci95?.[1], e.ci[1], 1e-6, `${label} ci high`);
  close(r.hedgesG, e.g, 1e-6, `${label} g`);
  assert.equal(r.degenerate, undefined);
}

const A = [1.2, 3.4, 2.2, 5.1, 4.4, 3.3];
const B = [0.5, 1.1, 2.0, 0.9, 1.7, 1.4, 0.2, 2.5];
// Each: row(a, b) with the Python above.
const CASES: { name: string; a: number[]; b: number[]; e: Expected }[] = [
  { name: 'general (6 vs 8)', a: A, b: B, e: { t: 3.0914570913437625, df: 7.199430102015608, p: 0.016923861042278606, ci: [0.4737816938662023, 3.4845516394671296], g: 1.7015324491425075 } },
  { name: 'n = 2', a: [1.0, 2.0], b: [3.0, 5.0, 4.5], e: { t: -3.411211461689767, df: 2.9244712990936566, p: 0.043774117295522275, ci: [-5.191245982615106, -0.14208735071822742], g: -2.046653415892977 } },
  { name: 'one side constant', a: [2, 2, 2], b: [1, 2, 3.5], e: { t: -0.22941573387056155, df: 2.0, p: 0.8398718461949131, ci: [-3.292471406354554, 2.959138073021221], g: -0.1494574717856109 } },
  { name: 'close means', a: [1.0, 1.3, 0.9, 1.25], b: [1.1, 1.15, 1.0, 1.05], e: { t: 0.3683454790815248, df: 3.662125088622423, p: 0.7329075882479221, ci: [-0.2557485173177042, 0.33074851731770394], g: 0.22624214756779204 } },
  { name: 'clearly separated', a: [5.1, 5.3, 4.9, 5.2, 5.0], b: [1.0, 1.2, 0.9, 1.1], e: { t: 42.3008703972346, df: 6.980769230769228, p: 1.1262109649427513e-09, ci: [3.8234779718246474, 4.276522028175353], g: 24.57370295578309 } },
];

describe('comparison statistics', () => {
  describe("Welch's test and Hedges' g against SciPy", () => {
    for (const c of CASES) {
      it(c.name, () => checkWelch(welchTest(summary(c.a), summary(c.b)), c.e, c.name));
    }

    it('identical datasets: t = 0, p = 1, g = 0, a CI symmetric around 0, not significant', () => {
      // row([1, 2, 3, 4], [1, 2, 3, 4]) -> t 0.0, df 6.0, p 1.0, ci [-2.2337146951647133, 2.2337146951647133], g 0.0
      const r = welchTest(summary([1, 2, 3, 4]), summary([1, 2, 3, 4]));
      assert.equal(r.t, 0);
      close(r.df, 6, 1e-12, 'df');
      assert.equal(r.p, 1);
      close(r.ci95?.[1], 2.2337146951647133, 1e-6, 'ci');
      close(r.ci95?.[0], -2.2337146951647133, 1e-6, 'ci');
      assert.equal(r.hedgesG, 0);
      const [l] = compareLayers([{ layer: 0, summary: summary([1, 2, 3, 4]) }], [{ layer: 0, summary: summary([1, 2, 3, 4]) }]);
      assert.equal(l.significant, false);
      assert.equal(l.higher, null);
      assert.equal(l.q, 1);
    });

    it('very unequal n (3 texts vs 200), from the large side\'s summary alone', () => {
      // rng = np.random.default_rng(7); big = rng.normal(1.0, 0.5, 200)
      // big.mean(), big.std(ddof=1) -> 0.9340190203070675, 0.43724971207072877
      // row([1.9, 2.4, 1.6], big) -> t 4.3872843585758, df 2.0708422251797254, p 0.045264644921727916,
      //   ci [0.052405947991565616, 2.012889344727633], g 2.354570756038158
      // (stats.ttest_ind_from_stats with the same summaries gives the same t and p: 4.387284358575801, 0.04526464492172791)
      const big: Summary = { mean: 0.9340190203070675, std: 0.43724971207072877, n: 200 };
      checkWelch(welchTest(summary([1.9, 2.4, 1.6]), big), { t: 4.3872843585758, df: 2.0708422251797254, p: 0.045264644921727916, ci: [0.052405947991565616, 2.012889344727633], g: 2.354570756038158 }, 'unequal n');
    });

    it('Hedges\' exact J: known values', () => {
      // np.exp(special.gammaln(m/2) - special.gammaln((m-1)/2)) / np.sqrt(m/2) for m = 2, 10, 1000
      close(correctionJ(2), 0.5641895835477564, 1e-10, 'J(2) = 1/sqrt(pi)');
      close(correctionJ(10), 0.922745608053087, 1e-10, 'J(10)');
      close(correctionJ(1000), 0.9992497811794344, 1e-9, 'J(1000)');
    });
  });

  describe('edge cases (decided, not NaN)', () => {
    it('n = 1 on a side: no variance estimate, so t, df, p, CI, g, q are null and nothing is significant', () => {
      const r = welchTest(summary([2]), summary([1, 2, 3]));
      assert.deepEqual({ ...r }, { diff: 0, se: null, t: null, df: null, p: null, ci95: null, hedgesG: null, degenerate: 'too-few-texts' });
      const [l] = compareLayers([{ layer: 0, summary: summary([5]) }], [{ layer: 0, summary: summary([1, 2, 3]) }]);
      assert.equal(l.q, null);
      assert.equal(l.significant, false);
      assert.equal(l.higher, null);
      assert.equal(l.diff, 3);
    });

    it('zero variance on both sides, equal means: no evidence of a difference (p = 1, CI [0, 0], t and g null)', () => {
      const r = welchTest(summary([2, 2, 2]), summary([2, 2]));
      assert.deepEqual({ ...r }, { diff: 0, se: 0, t: null, df: null, p: 1, ci95: [0, 0], hedgesG: null, degenerate: 'no-variance-equal-means' });
    });

    it('zero variance on both sides, different means: t = -Infinity, p = 0, significant; null in JSON with the reason', () => {
      const r = welchTest(summary([2, 2, 2]), summary([3, 3]));
      assert.equal(r.t, -Infinity);
      assert.equal(r.p, 0);
      assert.equal(r.df, null);
      assert.deepEqual(r.ci95, [-1, -1]);
      assert.equal(r.hedgesG, -Infinity);
      assert.equal(r.degenerate, 'no-variance-different-means');
      const [l] = compareLayers([{ layer: 0, summary: summary([2, 2, 2]) }], [{ layer: 0, summary: summary([3, 3]) }]);
      assert.equal(l.significant, true);
      assert.equal(l.higher, 'b');
      const json = JSON.parse(toCompareJson(compareResults(resultsOf({ x: [[2, 2, 2]], y: [[3, 3]] }))));
      assert.equal(json.comparisons[0].layers[0].t, null);
      assert.equal(json.comparisons[0].layers[0].hedgesG, null);
      assert.equal(json.comparisons[0].layers[0].degenerate, 'no-variance-different-means');
    });
  });

  describe('adjustment across layers', () => {
    // p of the six CASES above in order general, n2, identical, oneSideConstant, close, strong:
    const P = [0.016923861042278606, 0.043774117295522275, 1.0, 0.8398718461949131, 0.7329075882479221, 1.1262109649427513e-09];
    it('Benjamini–Hochberg equals scipy.stats.false_discovery_control(ps, method="bh")', () => {
      const bh = [0.050771583126835815, 0.08754823459104455, 1.0, 1.0, 1.0, 6.757265789656508e-09];
      adjustPValues(P, 'bh').forEach((q, i) => close(q, bh[i], 1e-9, `q[${i}]`));
    });
    it('Holm equals Holm by hand in NumPy (sort, times m - rank, running max, cap 1)', () => {
      // p = np.array(ps); o = np.argsort(p); run = 0
      // for k, i in enumerate(o): run = max(run, min(1, (m-k)*p[i])); h[i] = run
      const holm = [0.08461930521139303, 0.1750964691820891, 1.0, 1.0, 1.0, 6.757265789656508e-09];
      adjustPValues(P, 'holm').forEach((q, i) => close(q, holm[i], 1e-9, `holm[${i}]`));
    });
    it('untestable layers stay null and do not count in m; none leaves p as is', () => {
      const q = adjustPValues([0.01, null, 0.04], 'bh');
      assert.equal(q[1], null);
      close(q[0], 0.02, 1e-12);
      close(q[2], 0.04, 1e-12);
      assert.deepEqual(adjustPValues([0.01, null, 0.04], 'none'), [0.01, null, 0.04]);
    });
    it('compareLayers adjusts over the layers of the comparison and marks significance at alpha', () => {
      const sides = (k: 'a' | 'b'): LayerSide[] => CASES.map((c, i) => ({ layer: i, summary: summary(c[k]) }));
      const layers = compareLayers(sides('a'), sides('b'));
      // The same five layers' p through scipy.stats.false_discovery_control (general, n2, oneSide, close, strong):
      // [0.04230965260569652, 0.0729568621592038, 0.8398718461949131, 0.8398718461949131, 5.6310548247137564e-09]
      const expected = [0.04230965260569652, 0.0729568621592038, 0.8398718461949131, 0.8398718461949131, 5.6310548247137564e-09];
      layers.forEach((l, i) => close(l.q, expected[i], 1e-8, `q layer ${i}`));
      assert.deepEqual(layers.map((l) => l.significant), [true, false, false, false, true]);
      assert.deepEqual(layers.map((l) => l.higher), ['a', null, null, null, 'a']);
      const strict = compareLayers(sides('a'), sides('b'), { alpha: 0.01, correction: 'holm' });
      assert.deepEqual(strict.map((l) => l.significant), [false, false, false, false, true]);
    });
  });

  describe('dataset vs rest', () => {
    const C = [0.31, 0.35, 0.29, 0.40, 0.33];
    const P = [0.22, 0.27, 0.25, 0.30];
    const M = [0.28, 0.26, 0.24, 0.31, 0.27, 0.29];
    it('pools the others\' moments exactly (equal to the summary of the concatenated values)', () => {
      const pooled = poolSummaries([summary(P), summary(M), summary([0.5]), { mean: Number.NaN, std: null, n: 0 }]);
      const direct = summary([...P, ...M, 0.5]);
      assert.equal(pooled.n, direct.n);
      close(pooled.mean, direct.mean, 1e-13, 'mean');
      close(pooled.std, direct.std!, 1e-12, 'std');
      // np.mean(P + M), np.std(P + M, ddof=1) -> 0.269, 0.02766867462592951
      const pm = poolSummaries([summary(P), summary(M)]);
      close(pm.mean, 0.269, 1e-12, 'numpy mean');
      close(pm.std, 0.02766867462592951, 1e-10, 'numpy std');
      assert.deepEqual(poolSummaries([summary([3])]), { mean: 3, std: null, n: 1 });
    });
    it('compares one dataset with the rest pooled, like Welch on the concatenated values', () => {
      const results = resultsOf({ cpp: [C], python: [P], maths: [M] });
      const cmp = compareResults(results, { selection: { kind: 'vsRest', name: 'cpp' } });
      assert.equal(cmp.comparisons.length, 1);
      assert.equal(cmp.comparisons[0].b, 'rest');
      assert.deepEqual(cmp.comparisons[0].pooled, ['python', 'maths']);
      // row(C, P + M) -> t 3.2214682511698998, df 5.786398067872466, p 0.019048614021950693,
      //   ci [0.015650333639604178, 0.11834966636039583], g 1.9204762594571105
      checkWelch(cmp.comparisons[0].layers[0], { t: 3.2214682511698998, df: 5.786398067872466, p: 0.019048614021950693, ci: [0.015650333639604178, 0.11834966636039583], g: 1.9204762594571105 }, 'vs rest');
    });
  });

  describe('permutation test', () => {
    it('is deterministic for a seed', () => {
      assert.equal(permutationTest(A, B, 2000, 42), permutationTest(A, B, 2000, 42));
      assert.notEqual(permutationTest(A, B, 2000, 42), permutationTest(A, B, 2000, 43));
    });
    it('matches the exact permutation p (all splits enumerated in Python) within sampling error', () => {
      // Python: every split of A + B into 6 and 8 by itertools.combinations; share with
      // |mean x - mean y| >= observed - 1e-12 -> 19 / 3003 = 0.006327006327006327
      // and for [5.1, 5.3, 4.9, 5.2, 5.0] vs [1.0, 1.2, 0.9, 1.1]: 1 / 126 = 0.007936507936507936
      const n = 20000;
      for (const [a, b, exact] of [[A, B, 19 / 3003], [[5.1, 5.3, 4.9, 5.2, 5.0], [1.0, 1.2, 0.9, 1.1], 1 / 126]] as const) {
        const p = permutationTest(a, b, n, 7);
        const se = Math.sqrt((exact * (1 - exact)) / n);
        assert.ok(Math.abs(p - exact) < 4 * se + 1 / n, `p ${p} vs exact ${exact}`);
      }
    });
    it('gives p = 1 for identical samples', () => {
      assert.equal(permutationTest([1, 2, 3, 4], [1, 2, 3, 4], 999, 1), 1);
    });
    it('runs per layer from per-text records when asked, with its own adjusted q', () => {
      const results = resultsOf({ a: [[5.1, 5.3, 4.9, 5.2, 5.0], [1, 2, 3, 4, 5]], b: [[1.0, 1.2, 0.9, 1.1], [3, 3, 3, 3]] }, true);
      const cmp = compareResults(results, { permutations: 999, seed: 3 });
      assert.deepEqual(cmp.permutations, { count: 999, seed: 3 });
      const [l0, l1] = cmp.comparisons[0].layers;
      assert.ok(l0.permutation && l0.permutation.p < 0.02);
      assert.equal(l1.permutation?.p, 1);
      assert.equal(compareResults(results).comparisons[0].layers[0].permutation, undefined);
    });
  });

  describe('results in, comparisons out', () => {
    it('every pair of N datasets, in file order, leaving out datasets with no texts', () => {
      const results = resultsOf({ a: [[1, 2, 3]], b: [[2, 3, 4]], empty: [], c: [[3, 4, 6]] });
      const cmp = compareResults(results);
      assert.deepEqual(cmp.comparisons.map((c) => [c.a, c.b]), [['a', 'b'], ['a', 'c'], ['b', 'c']]);
      assert.equal(compareResults(results, { selection: { kind: 'eachVsRest' } }).comparisons.length, 3);
    });
    it('clear errors: an unknown metric names the metrics present; unknown or empty datasets name themselves', () => {
      const results = resultsOf({ a: [[1, 2, 3]], b: [[2, 3, 4]], empty: [] });
      assert.throws(() => compareResults(results, { metric: 'relChange' }), (e: Error) => e instanceof CompareError && /'relChange' is not in these results; they have: mean, absMean, l2, residL2/.test(e.message));
      assert.throws(() => compareResults(results, { selection: { kind: 'pair', a: 'a', b: 'zz' } }), /No dataset named 'zz'; the results have: a, b, empty/);
      assert.throws(() => compareResults(results, { selection: { kind: 'pair', a: 'a', b: 'empty' } }), /'empty' has no profiled texts/);
      assert.throws(() => compareResults(resultsOf({ a: [[1, 2]] })), /needs two datasets/);
    });
    it('any per-layer summary is a metric (relChange and cosine once results carry them)', () => {
      const results = resultsOf({ a: [[1, 2, 3]], b: [[2, 3, 4]] });
      for (const d of results.datasets) for (const l of d.layers) Object.assign(l, { cosine: { mean: 0.9, std: 0.01, n: 3 } });
      assert.equal(compareResults(results, { metric: 'cosine' }).comparisons[0].layers[0].diff, 0);
    });
    it('CSV: one row per comparison and layer', () => {
      const csv = toCompareCsv(compareResults(resultsOf({ a: [[1, 2, 3], [1, 1, 2]], b: [[2, 3, 4], [1, 1, 1]] }))).trim().split('\n');
      assert.equal(csv.length, 3);
      assert.match(csv[0], /^a,b,metric,layer,n_a,mean_a/);
      assert.match(csv[1], /^a,b,absMean,0,3,2,1,3,3,1,-1,/);
    });
  });
});
