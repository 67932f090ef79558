/** Deterministic small ONNX language models in real exporters' styles, for tests that must run offline. */
export { ensureModel, DEFAULT_CACHE_DIR } from './cache';
export { makeFeeds, presentNameFor, type FeedOptions } from './feeds';
export { generateModel } from './generate';
export { ModelGenError, resolveOptions } from './options';
export {
  DEFAULT_OPTIONS,
  MODEL_STYLES,
  isModelStyle,
  type ExpectedSpine,
  type GeneratedModel,
  type GenOptions,
  type InputRole,
  type ModelInputSpec,
  type ModelStyle,
} from './types';
