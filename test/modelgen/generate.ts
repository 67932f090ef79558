/** generateModel: build a style's graph and write a complete model folder. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildConfigJson } from './modelConfig';
import { assembleModel, writeModelFile } from './onnx/modelWriter';
import { resolveOptions } from './options';
import { WeightRandom } from './random';
import { buildStyle } from './styles';
import { buildTokenizerFiles } from './tokenizer/tokenizerFiles';
import type { GeneratedModel, GenOptions, ModelStyle } from './types';

/** Written beside the model so a cached folder can be described without regenerating it. */
export const MANIFEST_FILE = 'modelgen.json';

export async function generateModel(style: ModelStyle, outDir: string, opts: Partial<GenOptions> = {}): Promise<GeneratedModel> {
  const o = resolveOptions(style, opts);
  const dir = path.resolve(outDir);
  const build = buildStyle(style, o, new WeightRandom(o.seed));
  const tok = buildTokenizerFiles(o.vocabSize, o.maxPositions);

  const onnxPath = path.join(dir, build.onnxFile);
  await mkdir(path.dirname(onnxPath), { recursive: true });
  const model = assembleModel({ graph: build.graph, opsets: build.opsets, producerName: build.producer.name, producerVersion: build.producer.version, irVersion: build.irVersion });
  await writeModelFile(model, onnxPath, build.externalData);
  await writeJson(path.join(dir, 'tokenizer.json'), tok.tokenizerJson);
  await writeJson(path.join(dir, 'tokenizer_config.json'), tok.tokenizerConfig);
  await writeJson(path.join(dir, 'config.json'), buildConfigJson(o, build, { eos: tok.eosTokenId, pad: tok.padTokenId }));
  for (const [name, value] of Object.entries(build.extraJsonFiles?.({ eos: tok.eosTokenId, pad: tok.padTokenId }) ?? {})) await writeJson(path.join(dir, name), value);

  const generated: GeneratedModel = {
    dir,
    onnxPath,
    onnxFile: build.onnxFile,
    externalDataFiles: build.externalData ? [path.posix.join(path.posix.dirname(build.onnxFile), build.externalData.fileName)] : [],
    style,
    numLayers: o.layers,
    hidden: o.hidden,
    heads: o.heads,
    kvHeads: build.kvHeads ?? o.heads,
    headDim: o.hidden / o.heads,
    intermediate: o.intermediate,
    vocabSize: o.vocabSize,
    dtype: build.dtype,
    quantized: build.quantized,
    opset: build.opsets.find((s) => s.domain === '')?.version ?? 0,
    inputs: build.inputs,
    outputs: build.outputs,
    mainOutput: build.mainOutput,
    padTokenId: tok.padTokenId,
    eosTokenId: tok.eosTokenId,
    options: o,
    expected: build.expected,
  };
  await writeJson(path.join(dir, MANIFEST_FILE), { ...generated, dir: undefined, onnxPath: undefined });
  return generated;
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}
