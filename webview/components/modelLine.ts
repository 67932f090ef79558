/** Which model the results belong to, its dtype and depth, and whether it is ready. */
import type { ModelStatus } from '../../src/shared/protocol';
import { el } from '../dom';

const STATE_LABEL: Record<ModelStatus['state'], string> = { idle: 'Not loaded', loading: 'Loading…', ready: 'Ready', error: 'Error' };

export function modelLine(model: ModelStatus): HTMLElement {
  const facts = [model.dtype, model.numLayers !== undefined ? `${model.numLayers} layers` : undefined].filter((f): f is string => !!f);
  const state = el('span', { class: `model-state model-state-${model.state}`, 'data-testid': 'model-state' }, model.activity ?? STATE_LABEL[model.state] ?? model.state);
  return el(
    'div',
    { class: 'model', 'data-testid': 'model' },
    el('div', { class: 'model-line' }, el('span', { class: 'model-id', title: model.id }, model.id || 'No model chosen'), ...facts.map((f) => el('span', { class: 'model-fact' }, f)), state),
    model.message ? el('div', { class: `model-message model-message-${model.state}` }, model.message) : undefined,
  );
}
