/**
 * The profiler against PyTorch itself, where PyTorch is installed: a Llama-shaped decoder built in
 * plain PyTorch (bench/source_method.py) and exported with torch.onnx.export is profiled by the
 * profiler, and its per-text, per-layer mean and absolute mean of each block's delta are compared
 * with what forward hooks on the same PyTorch module measure (output - input of each decoder
 * layer) on the same token ids: an independent computation by another framework from the same
 * weights. Skipped where the Python has no torch and onnx (LAYER_PROFILER_PYTHON picks the Python).
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { agreement, ensureSourceModel, probeTorch, runSourceSide, type SourceRecord } from '../bench/sourceMethod';
import { writeBenchTexts } from '../bench/sourceTexts';
import { DEFAULT_PROFILE_OPTIONS } from '../src/core/api';
import { loadTokenizer } from '../src/core/model/tokenizer';
import { LayerProfiler } from '../src/core/profiler';
import type { DatasetResult } from '../src/core/results';

const python = process.env.LAYER_PROFILER_PYTHON ?? '/usr/bin/python3';
const workDir = path.resolve(__dirname, '..', 'test-output', 'source-method-test');

describe('profile values against PyTorch forward hooks on the same exported model', function () {
  this.timeout(600_000);

  it('agrees per text and per layer (mean and absMean, 1e-4 relative)', async function () {
    const probe = probeTorch(python, 1);
    if ('unavailable' in probe) this.skip();
    const modelDir = await ensureSourceModel(python, workDir, { hidden: 64, layers: 3, heads: 4, kvHeads: 2, intermediate: 128, vocabSize: 600 });
    const texts = await writeBenchTexts(path.join(workDir, 'texts'), 3, await loadTokenizer(modelDir), 96);
    const idsFile = path.join(workDir, 'ids.json');
    const outFile = path.join(workDir, 'torch-out.json');
    await writeFile(idsFile, JSON.stringify(texts));
    await runSourceSide(python, modelDir, idsFile, outFile, 1);
    const torch = (JSON.parse(await readFile(outFile, 'utf8')) as { records: SourceRecord[] }).records;

    const profiler = await LayerProfiler.open({ kind: 'local', path: modelDir }, { threads: 1 });
    let result: DatasetResult;
    try {
      const run = profiler.profileDataset({ name: 't', paths: [path.join(workDir, 'texts')] }, DEFAULT_PROFILE_OPTIONS);
      for (;;) {
        const step = await run.next();
        if (step.done) {
          result = step.value;
          break;
        }
      }
    } finally {
      await profiler.dispose();
    }
    const records = result.records ?? [];
    assert.equal(records.length, 3);
    assert.equal(torch.length, 3);
    for (const r of records) assert.equal(r.exact, true);
    // Same token counts: both sides ran the ids of one tokenizer.
    for (const t of texts) assert.equal(records.find((r) => path.basename(r.path) === path.basename(t.label))?.tokens, t.ids.length);
    const a = agreement(torch, records);
    assert.ok(a.maxAbsMeanRelDiff < 1e-4, `absMean differs by ${a.maxAbsMeanRelDiff} (relative)`);
    assert.ok(a.maxMeanDiffOverAbsMean < 1e-4, `mean differs by ${a.maxMeanDiffOverAbsMean} of absMean`);
    // The layers move the stream by different amounts, so a mix-up of layers would show.
    const first = torch[0].layers.map((l) => l.absMean);
    assert.ok(new Set(first.map((x) => x.toPrecision(3))).size === first.length);
  });
});
