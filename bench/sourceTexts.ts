/**
 * The texts of `npm run bench:source`: seeded, code-like files (C++, Python and prose in varying
 * mixes and lengths), written to a folder for the CLI and tokenized once here, with the project's
 * own tokenizer, for the PyTorch side. Each text fits one window, so both sides run one exact pass
 * per text and their per-layer values can be compared.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TextTokenizer } from '../src/core/model/tokenizer';
import { mulberry32 } from '../test/modelgen/random';

export interface BenchText {
  /** The file's path, as the CLI labels it. */
  label: string;
  ids: number[];
}

const NAMES = ['buffer', 'count', 'index', 'reader', 'values', 'result', 'layer', 'stream', 'token', 'window', 'offset', 'total', 'scale', 'name', 'path'];
const TYPES = ['int', 'double', 'std::string', 'std::size_t', 'bool', 'float'];
const WORDS = 'the layer reads a residual stream and writes an update back while each block changes it a little and some change it much more than others so we measure'.split(' ');

function snippet(rand: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const a = pick(NAMES);
  const b = pick(NAMES);
  switch (Math.floor(rand() * 3)) {
    case 0:
      return `${pick(TYPES)} ${a}_${b}(const std::vector<${pick(TYPES)}>& ${a}) {\n  ${pick(TYPES)} ${b} = 0;\n  for (std::size_t i = 0; i < ${a}.size(); ++i) {\n    ${b} += ${a}[i] * ${Math.floor(rand() * 100)};\n  }\n  return ${b};\n}\n`;
    case 1:
      return `def ${a}_${b}(${a}, ${b}=None):\n    """Return the ${a} of every ${b}."""\n    out = []\n    for item in ${a}:\n        if item is not None and item > ${Math.floor(rand() * 50)}:\n            out.append(item.${b})\n    return out\n`;
    default:
      return `// ${Array.from({ length: 8 + Math.floor(rand() * 12) }, () => pick(WORDS)).join(' ')}.\n`;
  }
}

/**
 * Writes `count` texts under `dir` (text-NNN.txt) and returns their ids, each text at most
 * `maxTokens` tokens: snippets are added while the text stays within a length drawn per text.
 */
export async function writeBenchTexts(dir: string, count: number, tokenizer: TextTokenizer, maxTokens: number, seed = 7): Promise<BenchText[]> {
  await mkdir(dir, { recursive: true });
  // Seeded, so the texts are the same on every machine.
  const rand = mulberry32(seed);
  const out: BenchText[] = [];
  for (let i = 0; i < count; i++) {
    // Lengths spread from a fifth of the window to all of it, as files in a folder are.
    const target = Math.floor(maxTokens * (0.2 + 0.8 * rand()));
    let text = snippet(rand);
    for (;;) {
      const next = text + '\n' + snippet(rand);
      if (tokenizer.encode(next).ids.length > target) break;
      text = next;
    }
    const label = path.join(dir, `text-${String(i).padStart(3, '0')}.txt`);
    await writeFile(label, text);
    out.push({ label, ids: tokenizer.encode(text).ids });
  }
  return out;
}
