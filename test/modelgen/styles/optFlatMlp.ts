import type { WeightRandom } from '../random';
import type { GenOptions, StyleBuild } from '../types';
export function buildOptFlatMlp(_o: GenOptions, _rng: WeightRandom): StyleBuild { throw new Error('todo'); }
