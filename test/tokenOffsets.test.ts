/** Token spans recovered by decoding, on real tokenizers (byte-level GPT-2, SentencePiece Llama) and the generated one. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadTokenizer } from '../src/core/model/tokenizer';
import { tokenOffsets } from '../src/core/model/tokenOffsets';
import { ensureModel } from './modelgen';

const TEXT = 'def naïve_sum(xs):\n    return sum(x for x in xs)  # 合計 ✓ 🚀\n\n\tint main() { return 0; }\n';

async function check(folder: string): Promise<void> {
  const tok = await loadTokenizer(folder);
  const { ids, tokens } = tok.encode(TEXT);
  const spans = tokenOffsets(tok.decode, ids, TEXT);
  assert.equal(spans.length, ids.length);
  const placed = spans.filter((s): s is [number, number] => s !== null);
  // Every token that stands for visible text gets a span; whitespace-only and special tokens may not.
  ids.forEach((id, i) => {
    const visible = tok.decode([id]).replace(/\uFFFD/g, 'x').trim() !== '';
    if (visible) assert.ok(spans[i], `token ${i} ${JSON.stringify(tokens[i])} has a span`);
  });
  // Spans move forward through the text and lie inside it.
  let last = 0;
  for (const [a, b] of placed) {
    assert.ok(a >= 0 && b <= TEXT.length && a < b, `span ${a}-${b}`);
    assert.ok(a >= last || b === last, 'spans never go backwards');
    last = Math.max(last, b);
  }
  // Together they cover every non-space character of the text.
  const covered = new Uint8Array(TEXT.length);
  for (const [a, b] of placed) covered.fill(1, a, b);
  for (let i = 0; i < TEXT.length; i++) if (!/\s/.test(TEXT[i])) assert.equal(covered[i], 1, `character ${JSON.stringify(TEXT[i])} at ${i} is in a token's span`);
}

describe('token offsets by decoding', () => {
  it('the generated tokenizer', async () => check((await ensureModel('optimum-llama')).dir));
  const shared = process.env.LAYER_PROFILER_TEST_MODELS;
  for (const folder of ['ort-genai-tiny-random-gpt2-fp32', 'ort-genai-tiny-random-llama-fp16']) {
    it(`real tokenizer: ${folder}`, async function () {
      if (!shared || !existsSync(path.join(shared, folder))) this.skip();
      await check(path.join(shared!, folder));
    });
  }
});
