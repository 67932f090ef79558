/**
 * Checking a results file against its JSON Schema (and the moments the schema leaves out) before
 * anything uses it, so a tampered or truncated file is refused by name instead of failing later
 * inside a merge with a JavaScript error.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import schemaV1 from '../../../schema/profile-v1.schema.json';
import schemaV2 from '../../../schema/profile-v2.schema.json';
import { RESULTS_SCHEMA, RESULTS_SCHEMA_V1 } from '../results';

let validators: Record<string, ValidateFunction> | undefined;

function validatorFor(schema: string): ValidateFunction {
  if (!validators) {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    validators = { [RESULTS_SCHEMA_V1]: ajv.compile(schemaV1), [RESULTS_SCHEMA]: ajv.compile(schemaV2) };
  }
  return validators[schema];
}

/** What is wrong with `data` (a parsed results file of schema `schema`), in a few plain lines; empty when nothing is. */
export function resultsProblems(data: unknown, schema: typeof RESULTS_SCHEMA | typeof RESULTS_SCHEMA_V1): string[] {
  const validate = validatorFor(schema);
  if (!validate(data)) return (validate.errors ?? []).slice(0, 3).map(describeError);
  return momentsProblems(data as MomentsCarrier).slice(0, 3);
}

function describeError(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.replace(/^\//, '').replace(/\//g, '.') : 'the top level';
  if (e.keyword === 'required') return `${where} lacks "${(e.params as { missingProperty: string }).missingProperty}"`;
  if (e.keyword === 'enum' || e.keyword === 'const') return `${where} ${e.message ?? 'has a value not allowed'}${'allowedValues' in e.params ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : ''}`;
  return `${where} ${e.message ?? 'is not valid'}`;
}

interface MomentsCarrier {
  model: { numLayers: number };
  datasets: { name: string; texts: number; moments?: { layers?: unknown } }[];
}

/** The running moments merges combine: present, numbers, counts that agree with the dataset's texts. */
function momentsProblems(r: MomentsCarrier): string[] {
  const problems: string[] = [];
  r.datasets.forEach((d, i) => {
    const at = `datasets.${i} ("${d.name}")`;
    const layers = d.moments?.layers;
    if (!Array.isArray(layers)) {
      problems.push(`${at} lacks its moments (moments.layers), which merging needs`);
      return;
    }
    if (layers.length === 0) return;
    if (layers.length !== r.model.numLayers) problems.push(`${at} has moments for ${layers.length} layers but the model has ${r.model.numLayers}`);
    layers.forEach((l: unknown, layer: number) => {
      for (const [metric, m] of Object.entries((l ?? {}) as Record<string, unknown>)) {
        if (metric === 'substeps') continue;
        const mm = m as { n?: unknown; mean?: unknown; m2?: unknown } | null;
        const ok = !!mm && Number.isInteger(mm.n) && (mm.n as number) >= 0 && typeof mm.mean === 'number' && typeof mm.m2 === 'number' && (mm.m2 as number) >= 0;
        if (!ok) problems.push(`${at} moments.layers.${layer}.${metric} is not a count, mean and m2 (n ≥ 0, m2 ≥ 0): ${JSON.stringify(m)}`);
        else if (metric === 'absMean' && mm.n !== d.texts) problems.push(`${at} says ${d.texts} texts but its layer ${layer} moments count ${mm.n as number}`);
      }
    });
  });
  return problems;
}
