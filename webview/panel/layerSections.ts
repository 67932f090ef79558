/** The per-layer questions of the panel: each chart's data, words, table and drill-down metric in one place. */
import { attentionShareChart, blockInfluenceChart, layerChart, relativeSemChart, varianceChart, type LayerChartData } from '../../src/shared/chartData';
import type { DrillMetricId } from '../../src/shared/drillDown';
import type { ViewState } from '../../src/shared/protocol';
import type { LayerChartOptions } from '../charts/layerChartView';

export interface LayerSectionSpec {
  id: string;
  title: string;
  explanation: string;
  chart: LayerChartOptions;
  data: (state: ViewState) => LayerChartData;
  table: { caption: string; value: string; error?: string };
  /** The per-text value a click on a layer lists texts by. */
  drill: DrillMetricId;
  /** Shown instead of the chart when no dataset has this metric. */
  missing?: string;
}

const CLICK = 'Click a layer to see the texts with the highest and lowest values there.';
const OLDER = 'These results have no per-layer value for this chart: they were profiled by an older version. Profile the datasets again to see it.';

export const LAYER_SECTIONS: readonly LayerSectionSpec[] = [
  {
    id: 'absMean',
    title: 'How much does each layer change the residual stream?',
    explanation: `Mean over texts of each text’s average |resid_post − resid_pre| over its tokens and hidden units: the change block i makes to the residual stream. Bars show ± one standard deviation across texts. ${CLICK}`,
    chart: { yTitle: 'absolute mean of layer delta', errorName: 'std' },
    data: (s) => layerChart(s, 'absMean', 'std'),
    table: { caption: 'Absolute mean of the layer delta per layer, ± standard deviation across texts', value: 'abs mean', error: 'std' },
    drill: 'absMean',
  },
  {
    id: 'mean',
    title: 'Which way does each layer push it?',
    explanation: `Mean over texts of each text’s signed average change; near zero means the changes cancel out. Bars show ± one standard deviation. ${CLICK}`,
    chart: { yTitle: 'mean of layer delta', errorName: 'std' },
    data: (s) => layerChart(s, 'mean', 'std'),
    table: { caption: 'Mean of the layer delta per layer, ± standard deviation across texts', value: 'mean', error: 'std' },
    drill: 'mean',
  },
  {
    id: 'absMeanSem',
    title: 'How sure are we of each layer’s average?',
    explanation: `The standard error of each layer’s mean |Δ| as a percentage of it, std / √n / mean: at 5% the average is known to about ± 5% (± 10% for a 95% interval). Lower is surer, and it shrinks as texts are added (√n). Whether two datasets really differ is tested in the comparison below. ${CLICK}`,
    chart: { yTitle: 'standard error, % of the mean' },
    data: (s) => relativeSemChart(s),
    table: { caption: 'Standard error of the mean of the absolute mean of the layer delta, as a percentage of it, per layer', value: 'SE, % of mean' },
    drill: 'absMean',
  },
  {
    id: 'variance',
    title: 'How much does each layer vary from text to text?',
    explanation: `Variance across texts (std²) of the absolute mean: high where a layer reacts very differently to different texts. ${CLICK}`,
    chart: { yTitle: 'variance of absolute mean' },
    data: (s) => varianceChart(s),
    table: { caption: 'Variance across texts of the absolute mean of the layer delta, per layer', value: 'variance' },
    drill: 'absMean',
  },
  {
    id: 'relChange',
    title: 'How large is each layer’s change relative to the stream?',
    explanation: `Mean over texts of each token’s ‖Δ‖ / ‖resid_pre‖: 0.1 means the layer adds a vector a tenth as long as the stream entering it. Bars show ± one standard deviation. ${CLICK}`,
    chart: { yTitle: 'relative change ‖Δ‖ / ‖resid_pre‖', errorName: 'std' },
    data: (s) => layerChart(s, 'relChange', 'std'),
    table: { caption: 'Relative change of the residual stream per layer, ± standard deviation across texts', value: 'relative change', error: 'std' },
    drill: 'relChange',
    missing: OLDER,
  },
  {
    id: 'blockInfluence',
    title: 'How much does each layer turn the stream (Block Influence)?',
    explanation: `ShortGPT’s Block Influence, 1 − cos(resid_pre, resid_post), averaged over tokens and texts: near 0, a layer leaves the stream’s direction as it was (a candidate for pruning). Bars show ± one standard deviation. ${CLICK}`,
    chart: { yTitle: 'Block Influence, 1 − cosine', errorName: 'std' },
    data: (s) => blockInfluenceChart(s),
    table: { caption: 'Block Influence (1 − cosine of resid_pre and resid_post) per layer, ± standard deviation across texts', value: 'Block Influence', error: 'std' },
    drill: 'blockInfluence',
    missing: OLDER,
  },
  {
    id: 'attentionShare',
    title: 'How do attention and MLP share each layer’s change?',
    explanation: `Attention’s share, mean |attn_out| / (mean |attn_out| + mean |mlp_out|): above 50% attention carries more of the layer’s change, below it the MLP. ${CLICK}`,
    chart: { yTitle: 'attention’s share', scale: 'share' },
    data: (s) => attentionShareChart(s),
    table: { caption: 'Attention’s share of each layer’s change (mean |attn_out| / (mean |attn_out| + mean |mlp_out|))', value: 'attention share' },
    drill: 'attentionShare',
    missing: 'The model’s blocks were not split into attention and MLP (parallel blocks, or no sub-steps found), so there is no split to show.',
  },
  {
    id: 'l2',
    title: 'How long is each layer’s change per token (L2)?',
    explanation: `Mean over texts of each token’s L2 norm of Δ over the hidden units: the length of the vector the layer adds, where the absolute mean is its average entry. Bars show ± one standard deviation. ${CLICK}`,
    chart: { yTitle: 'per-token L2 norm of layer delta', errorName: 'std' },
    data: (s) => layerChart(s, 'l2', 'std'),
    table: { caption: 'Per-token L2 norm of the layer delta per layer, ± standard deviation across texts', value: 'L2', error: 'std' },
    drill: 'l2',
  },
];
