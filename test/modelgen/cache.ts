/**
 * ensureModel: generate a model once into test-output/models/<style>-<hash>/ and reuse it. The
 * hash covers the options and the generator's own source, so editing the generator invalidates
 * stale models instead of silently testing against them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { generateModel, MANIFEST_FILE } from './generate';
import { resolveOptions } from './options';
import type { GeneratedModel, GenOptions, ModelStyle } from './types';

const GENERATOR_DIR = __dirname;
/** Repository root: this file lives in test/modelgen/. */
export const DEFAULT_CACHE_DIR = path.resolve(GENERATOR_DIR, '../../test-output/models');

let sourceHash: string | undefined;

function generatorSourceHash(): string {
  if (sourceHash) return sourceHash;
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) h.update(entry.name).update(readFileSync(full));
    }
  };
  walk(GENERATOR_DIR);
  sourceHash = h.digest('hex');
  return sourceHash;
}

export function modelCacheKey(style: ModelStyle, o: GenOptions): string {
  const ordered = Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify({ style, o: ordered, src: generatorSourceHash() })).digest('hex').slice(0, 12);
}

export async function ensureModel(style: ModelStyle, opts: Partial<GenOptions> = {}, cacheDir = DEFAULT_CACHE_DIR): Promise<GeneratedModel> {
  const o = resolveOptions(style, opts);
  const dir = path.join(cacheDir, `${style}-${modelCacheKey(style, o)}`);
  const cached = await readManifest(dir);
  if (cached) return cached;
  // Generate beside the final folder and rename, so a concurrent test process never sees half a model.
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await generateModel(style, tmp, o);
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    const other = await readManifest(dir);
    if (other) return other; // another process finished first
    throw err;
  }
  const made = await readManifest(dir);
  if (!made) throw new Error(`Generated ${style} into ${dir} but cannot read its ${MANIFEST_FILE}.`);
  return made;
}

async function readManifest(dir: string): Promise<GeneratedModel | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dir, MANIFEST_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const stored = JSON.parse(text) as Omit<GeneratedModel, 'dir' | 'onnxPath'>;
  return { ...stored, dir, onnxPath: path.join(dir, stored.onnxFile) };
}
