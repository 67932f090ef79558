/** Every tensor, node and input an analysis adds to a graph is named under this prefix. */
export const ANALYSIS_PREFIX = 'layer_profiler/';
