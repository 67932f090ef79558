/**
 * Seeded source-like texts for the benches: log-normal lengths (as source files have), and
 * folders of them written to disk. A folder's first file is always longer than the default
 * window, so every folder holds a full-length pass and folders of different sizes differ only in
 * how many texts they hold, not in their largest pass.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface BenchText {
  label: string;
  text: string;
}

/** A seeded generator of uniform numbers in [0, 1). */
function uniform(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** `chars` characters of C-like code, different for each `k`. */
export function codeText(k: number, chars: number): string {
  const line = (i: number) => `  int value${i} = compute(${i}, "item ${i}") + offset * ${i % 7};\n`;
  let text = `// file ${k}\n`;
  for (let i = 0; text.length < chars; i++) text += line(i + k);
  return text.slice(0, chars);
}

/** `n` texts whose lengths are log-normal around `medianChars` (between 40 and `maxChars`). */
export function makeTexts(n: number, medianChars: number, seed = 12345, maxChars = 6000): BenchText[] {
  const rand = uniform(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return Array.from({ length: n }, (_, k) => {
    const chars = Math.round(Math.min(maxChars, Math.max(40, Math.exp(Math.log(medianChars) + 0.9 * normal()))));
    return { label: `t${k}`, text: codeText(k, chars) };
  });
}

/**
 * Writes a folder of `n` texts (the first `longChars` long, the rest as makeTexts draws them) and
 * returns its path; the texts of a smaller folder are the first ones of a larger one.
 */
export async function writeTextFolder(root: string, n: number, medianChars: number, longChars: number): Promise<string> {
  const dir = path.join(root, `files-${n}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const texts = makeTexts(n, medianChars);
  texts[0] = { label: 't0', text: codeText(0, longChars) };
  // Written a few at a time: a thousand small writes at once would only queue.
  for (let i = 0; i < texts.length; i += 64) {
    await Promise.all(texts.slice(i, i + 64).map((t, j) => writeFile(path.join(dir, `file${String(i + j).padStart(4, '0')}.c`), t.text)));
  }
  return dir;
}
