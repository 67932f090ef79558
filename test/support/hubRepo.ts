import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FakeHub } from './hub-server';

/**
 * Serves a local model folder on the fake Hub as repo `id`, its ONNX file named as transformers.js
 * names the q8 weights (the bytes stay the folder's), so the dtype mapping is exercised too.
 */
export function serveModelAsQ8(hub: FakeHub, id: string, model: { dir: string; onnxPath: string }): void {
  const files: Record<string, Buffer> = {};
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) files[f] = readFileSync(path.join(model.dir, f));
  files['onnx/model_quantized.onnx'] = readFileSync(model.onnxPath);
  hub.addRepo(id, files);
}
