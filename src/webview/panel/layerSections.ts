/** The four per-layer questions of the panel: each chart's data, words and table in one place. */
import { layerChart, varianceChart, type LayerChartData } from '../../shared/chartData';
import type { ViewState } from '../../shared/protocol';
import type { LayerChartOptions } from '../charts/layerChartView';

export interface LayerSectionSpec {
  id: string;
  title: string;
  explanation: string;
  chart: LayerChartOptions;
  data: (state: ViewState) => LayerChartData;
  table: { caption: string; value: string; error?: string };
}

export const LAYER_SECTIONS: readonly LayerSectionSpec[] = [
  {
    id: 'absMean',
    title: 'How much does each layer change the residual stream?',
    explanation: 'Mean over texts of each text’s average |resid_post − resid_pre| over its tokens and hidden units: the change block i makes to the residual stream. Bars show ± one standard deviation across texts.',
    chart: { yTitle: 'absolute mean of layer delta', errorName: 'std', fromZero: true },
    data: (s) => layerChart(s, 'absMean', 'std'),
    table: { caption: 'Absolute mean of the layer delta per layer, ± standard deviation across texts', value: 'abs mean', error: 'std' },
  },
  {
    id: 'mean',
    title: 'Which way does each layer push it?',
    explanation: 'Mean over texts of each text’s signed average change; near zero means the changes cancel out. Bars show ± one standard deviation.',
    chart: { yTitle: 'mean of layer delta', errorName: 'std' },
    data: (s) => layerChart(s, 'mean', 'std'),
    table: { caption: 'Mean of the layer delta per layer, ± standard deviation across texts', value: 'mean', error: 'std' },
  },
  {
    id: 'absMeanSem',
    title: 'How sure are we of each layer’s average?',
    explanation: 'The absolute mean again, with ± the standard error of the mean (std / √n): where bars of two datasets do not overlap, the difference is unlikely to be chance.',
    chart: { yTitle: 'absolute mean of layer delta', errorName: 'SE', fromZero: true },
    data: (s) => layerChart(s, 'absMean', 'sem'),
    table: { caption: 'Absolute mean of the layer delta per layer, ± standard error of the mean', value: 'abs mean', error: 'standard error' },
  },
  {
    id: 'variance',
    title: 'How much does each layer vary from text to text?',
    explanation: 'Variance across texts (std²) of the absolute mean: high where a layer reacts very differently to different texts.',
    chart: { yTitle: 'variance of absolute mean', fromZero: true },
    data: (s) => varianceChart(s),
    table: { caption: 'Variance across texts of the absolute mean of the layer delta, per layer', value: 'variance' },
  },
];
