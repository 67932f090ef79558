/** Public API of the comparison statistics (no vscode import: CLI, engine and webview use it alike). */
export { COMPARE_SCHEMA, type CompareResults, type Comparison, type Correction, type Degenerate, type LayerComparison, type PermutationResult, type WelchResult } from './types';
export { compareLayers, compareResults, comparableDatasets, CompareError, defaultPerTextValues, metricsIn, DEFAULT_ALPHA, DEFAULT_CORRECTION, DEFAULT_METRIC, DEFAULT_SEED, type CompareOptions, type LayerSide, type PerTextValues, type Selection, type TestOptions } from './compare';
export { welchTest, hedgesG, correctionJ } from './welch';
export { poolSummaries } from './pool';
export { adjustPValues } from './adjust';
export { permutationTest, mulberry32 } from './permutation';
export { toCompareJson, toCompareCsv, COMPARE_CSV_COLUMNS } from './export';
export { findings, findingsMarkdown, metricWords, layerList, type Findings, type FindingsSection } from './findings';
export { twoSidedP, tQuantileAt } from './tDistribution';
