/**
 * deploy/: the Kubernetes Jobs (an Indexed Job of shards, then a merge Job) validated against a
 * JSON Schema of the fields that matter, their shell steps run here as Kubernetes would run them
 * (its $(VAR) expansion, the volumes mapped to folders), and the Dockerfile's build steps. All
 * offline: no cluster, no Docker.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync as mkdtempNow, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { parseAllDocuments } from 'yaml';
import type { ProfileResults } from '../src/core/results';
import { inShard } from '../src/core/dataset/shard';
import { ensureModel } from './modelgen';

const ROOT = path.resolve(__dirname, '..');
/** Temporary folders, removed after the suite. */
const temps: string[] = [];
const mkdtempSync = (prefix: string) => {
  const dir = mkdtempNow(prefix);
  temps.push(dir);
  return dir;
};
const DEPLOY = path.join(ROOT, 'deploy');

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every document of a YAML file; a syntax error fails with the file's name. */
function loadYaml(file: string): Json[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) assert.deepEqual(d.errors.map(String), [], `${file} is not valid YAML`);
  return list.map((d) => d.toJS()).filter((d) => d != null);
}

const envVar = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    value: { type: 'string' },
    valueFrom: { type: 'object' },
  },
  // Kubernetes wants env values as strings: `value: 4` is refused by the API server.
  oneOf: [{ required: ['value'] }, { required: ['valueFrom'] }],
};

const container = {
  type: 'object',
  required: ['name', 'image', 'command'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
    image: { type: 'string', minLength: 1 },
    command: { type: 'array', minItems: 1, items: { type: 'string' } },
    args: { type: 'array', items: { type: 'string' } },
    env: { type: 'array', items: envVar },
    volumeMounts: {
      type: 'array',
      items: { type: 'object', required: ['name', 'mountPath'], properties: { name: { type: 'string' }, mountPath: { type: 'string', pattern: '^/' }, readOnly: { type: 'boolean' } } },
    },
  },
};

/** A batch/v1 Job whose pods run to completion (Never/OnFailure; Always is refused by the API). */
const JOB_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://layer-profiler.invalid/k8s-job.json',
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'batch/v1' },
    kind: { const: 'Job' },
    metadata: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 } },
    },
    spec: {
      type: 'object',
      required: ['template'],
      properties: {
        completions: { type: 'integer', minimum: 1 },
        parallelism: { type: 'integer', minimum: 1 },
        backoffLimit: { type: 'integer', minimum: 0 },
        completionMode: { enum: ['NonIndexed', 'Indexed'] },
        template: {
          type: 'object',
          required: ['spec'],
          properties: {
            spec: {
              type: 'object',
              required: ['restartPolicy', 'containers'],
              properties: {
                restartPolicy: { enum: ['Never', 'OnFailure'] },
                containers: { type: 'array', minItems: 1, items: container },
                volumes: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } },
              },
            },
          },
        },
      },
    },
  },
};

/** The shards: an Indexed Job whose containers name the shard count and write /out/shard-<index>.json. */
const INDEXED_JOB_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://layer-profiler.invalid/k8s-indexed-job.json',
  allOf: [{ $ref: 'k8s-job.json' }],
  required: ['spec'],
  properties: {
    spec: {
      required: ['completionMode', 'completions', 'parallelism'],
      properties: {
        completionMode: { const: 'Indexed' },
        template: {
          properties: {
            spec: {
              properties: {
                containers: {
                  items: {
                    required: ['env'],
                    properties: {
                      env: { contains: { required: ['name', 'value'], properties: { name: { const: 'LAYER_PROFILER_SHARD_COUNT' }, value: { type: 'string', pattern: '^[1-9][0-9]*$' } } } },
                    },
                    // The output file is named by the index: $(JOB_COMPLETION_INDEX) (Kubernetes) or
                    // $JOB_COMPLETION_INDEX / ${JOB_COMPLETION_INDEX} (a shell).
                    anyOf: ['command', 'args'].map((k) => ({
                      required: [k],
                      properties: { [k]: { contains: { type: 'string', pattern: '--json[= ]+"?/out/[^ "]*\\$(\\(|\\{)?JOB_COMPLETION_INDEX\\b' } } },
                    })),
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

function validators() {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  ajv.addSchema(JOB_SCHEMA);
  const job = ajv.compile(JOB_SCHEMA);
  const indexed = ajv.compile(INDEXED_JOB_SCHEMA);
  // Plain booleans (not type guards), so a checked document keeps its type.
  return {
    job: Object.assign((d: unknown): boolean => job(d), { get errors() { return job.errors; } }),
    indexed: Object.assign((d: unknown): boolean => indexed(d), { get errors() { return indexed.errors; } }),
    errors: (v: { errors?: unknown }) => ajv.errorsText(v.errors as never),
  };
}

const podSpec = (job: Json) => job.spec.template.spec;
const env = (c: Json): Record<string, string | undefined> => Object.fromEntries((c.env ?? []).map((e: Json) => [e.name, e.value]));

/** Kubernetes' expansion of command and args: $(VAR) from the container's env, $$ for a literal $. */
function expandK8s(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name) => (m === '$$' ? '$' : name in vars ? vars[name] : m));
}

/** The container's shell step with its mount paths mapped to local folders and the image's CLI to this checkout's. */
function localScript(c: Json, vars: Record<string, string>, mounts: Record<string, string>): string[] {
  const cmd = [...c.command, ...(c.args ?? [])].map((s: string) => expandK8s(s, vars));
  assert.deepEqual(cmd.slice(0, 2), ['/bin/sh', '-c'], 'the container runs a shell step');
  let script = cmd[2];
  const cli = `'${process.execPath}' --import tsx '${path.join(ROOT, 'src/cli/index.ts')}'`;
  assert.match(script, /node \/app\/bin\/layer-profiler\.js /, 'the step runs the image\'s CLI');
  script = script.replaceAll('node /app/bin/layer-profiler.js', cli).replace(/(^|[\s="'>])\/tmp\//g, `$1${mounts['/tmp']}/`);
  for (const [mountPath, dir] of Object.entries(mounts).filter(([m]) => m !== '/tmp')) {
    script = script.replace(new RegExp(`(^|[\\s="'>])${mountPath.replace(/[/.]/g, '\\$&')}(?=[/\\s"']|$)`, 'g'), `$1${dir}`);
  }
  return ['-c', script];
}

function sh(args: string[], vars: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('/bin/sh', args, { cwd: ROOT, env: { ...process.env, ...vars }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('deploy/: Kubernetes Jobs, Dockerfile', function () {
  const indexedFile = path.join(DEPLOY, 'k8s/indexed-job.yaml');
  const mergeFile = path.join(DEPLOY, 'k8s/merge-job.yaml');
  after(() => {
    for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('the Indexed Job fits the schema: batch/v1 Job, Indexed, completions = LAYER_PROFILER_SHARD_COUNT, output named by JOB_COMPLETION_INDEX', () => {
    const v = validators();
    const docs = loadYaml(indexedFile);
    assert.equal(docs.length, 1);
    const job = docs[0];
    assert.ok(v.job(job), v.errors(v.job));
    assert.ok(v.indexed(job), v.errors(v.indexed));
    for (const c of podSpec(job).containers) {
      assert.equal(Number(env(c).LAYER_PROFILER_SHARD_COUNT), job.spec.completions, 'LAYER_PROFILER_SHARD_COUNT must equal spec.completions');
    }
    assert.ok(job.spec.parallelism <= job.spec.completions, 'parallelism beyond completions runs nothing more');
    // Every mount names a volume; the model and the data are mounted read-only, /out writable.
    const volumes = new Set(podSpec(job).volumes.map((x: Json) => x.name));
    const mounts = podSpec(job).containers[0].volumeMounts as Json[];
    for (const m of mounts) assert.ok(volumes.has(m.name), `volumeMount ${m.name} has no volume`);
    assert.deepEqual(mounts.map((m) => [m.mountPath, !!m.readOnly]).sort(), [['/data', true], ['/model', true], ['/out', false]]);
  });

  it('the merge Job fits the schema and merges the shard files of the same output volume', () => {
    const v = validators();
    const [job] = loadYaml(mergeFile);
    assert.ok(v.job(job), v.errors(v.job));
    assert.notEqual(job.spec.completionMode, 'Indexed');
    const c = podSpec(job).containers[0];
    const text = [...c.command, ...(c.args ?? [])].join(' ');
    assert.match(text, /layer-profiler\.js merge /);
    assert.match(text, /\/out\/shard-\*\.json/);
    assert.match(text, /--json \/out\/merged\.json/);
    const claim = (j: Json, mountPath: string) => {
      const m = podSpec(j).containers[0].volumeMounts.find((x: Json) => x.mountPath === mountPath);
      return podSpec(j).volumes.find((x: Json) => x.name === m.name).persistentVolumeClaim?.claimName;
    };
    const [indexed] = loadYaml(indexedFile);
    assert.ok(claim(job, '/out'));
    assert.equal(claim(job, '/out'), claim(indexed, '/out'), 'the merge reads the volume the shards wrote');
    assert.equal(c.image, podSpec(indexed).containers[0].image);
  });

  it('the schema refuses what would break: not Indexed, restartPolicy Always, an output without the index, a count that is a number', () => {
    const v = validators();
    const [job] = loadYaml(indexedFile);
    const broken = (edit: (j: Json) => void) => {
      const j = structuredClone(job);
      edit(j);
      return v.job(j) && v.indexed(j);
    };
    assert.ok(!broken((j) => (j.spec.completionMode = 'NonIndexed')));
    assert.ok(!broken((j) => delete j.spec.completionMode));
    assert.ok(!broken((j) => (podSpec(j).restartPolicy = 'Always')));
    assert.ok(!broken((j) => (j.apiVersion = 'batch/v1beta1')));
    assert.ok(!broken((j) => (podSpec(j).containers[0].args = podSpec(j).containers[0].args.map((s: string) => s.replaceAll('$(JOB_COMPLETION_INDEX)', '0')))));
    assert.ok(!broken((j) => (podSpec(j).containers[0].env.find((e: Json) => e.name === 'LAYER_PROFILER_SHARD_COUNT').value = 4)));
    assert.ok(!broken((j) => (podSpec(j).containers[0].env = podSpec(j).containers[0].env.filter((e: Json) => e.name !== 'LAYER_PROFILER_SHARD_COUNT'))));
  });

  it('run as Kubernetes runs them, the shard pods (one with no text) and the merge give exactly the single run', async function () {
    this.timeout(300_000);
    const model = (await ensureModel('optimum-llama')).dir;
    const [indexed] = loadYaml(indexedFile);
    const [merge] = loadYaml(mergeFile);
    const count = indexed.spec.completions as number;
    // Texts that leave the last shard empty, so its pod meets "No text was profiled".
    const data = mkdtempSync(path.join(os.tmpdir(), 'lp-deploy-data-'));
    for (let i = 0, kept = 0; kept < 6; i++) {
      const text = `def g${i}(x):\n    return x + ${i}\n`;
      if (inShard(createHash('sha256').update(text).digest('hex'), { index: count - 1, count })) continue;
      writeFileSync(path.join(data, `t${i}.py`), text);
      kept++;
    }
    const out = mkdtempSync(path.join(os.tmpdir(), 'lp-deploy-out-'));
    const mounts = { '/model': model, '/data': data, '/out': out };

    const c = podSpec(indexed).containers[0];
    for (let index = 0; index < count; index++) {
      const tmp = mkdtempSync(path.join(os.tmpdir(), 'lp-deploy-pod-'));
      // What the pod's env holds: the values, and the index from the completion-index annotation.
      const vars: Record<string, string> = { ...(env(c) as Record<string, string>), JOB_COMPLETION_INDEX: String(index), LAYER_PROFILER_RECORD_CACHE: 'off' };
      const r = await sh(localScript(c, vars, { ...mounts, '/tmp': tmp }), vars);
      assert.equal(r.code, 0, `pod ${index}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`shard ${index + 1} of ${count}`), `pod ${index} did not take its shard from JOB_COMPLETION_INDEX: ${r.stderr}`);
      if (index === count - 1) {
        assert.match(r.stdout, /no text in this shard/);
        assert.ok(!existsSync(path.join(out, `shard-${index}.json`)));
      }
    }
    const shards = readdirSync(out).filter((f) => /^shard-\d+\.json$/.test(f));
    assert.ok(shards.length >= 1 && shards.length < count, `shard files: ${shards.join(', ')}`);

    const m = podSpec(merge).containers[0];
    const merged = await sh(localScript(m, env(m) as Record<string, string>, { '/out': out, '/tmp': os.tmpdir() }), {});
    assert.equal(merged.code, 0, merged.stderr);

    mkdirSync(path.join(out, 'single'));
    const single = await sh(['-c', `'${process.execPath}' --import tsx '${path.join(ROOT, 'src/cli/index.ts')}' profile --model '${model}' --dataset 'texts=${data}' --threads 2 --no-cache --json '${out}/single/single.json'`], {});
    assert.equal(single.code, 0, single.stderr);
    const read = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as ProfileResults;
    const a = read(path.join(out, 'single/single.json')).datasets[0];
    const b = read(path.join(out, 'merged.json')).datasets[0];
    assert.equal(b.name, 'texts');
    assert.equal(b.texts, 6);
    const byPath = <T extends { path: string }>(r: T[]) => [...r].sort((x, y) => x.path.localeCompare(y.path));
    assert.deepEqual(byPath(b.records), byPath(a.records));
    a.layers.forEach((l, i) => {
      assert.ok(Math.abs(b.layers[i].absMean.mean - l.absMean.mean) <= 1e-12 * Math.abs(l.absMean.mean), `layer ${i} mean`);
      assert.ok(Math.abs(b.layers[i].absMean.std! - l.absMean.std!) <= 1e-12 * Math.abs(l.absMean.std!) + 1e-15, `layer ${i} std`);
    });
  });

  it('the Dockerfile: node:20-slim, npm ci with ONNXRUNTIME_NODE_INSTALL=skip, the build, the CLI as entrypoint, sources that exist', () => {
    const text = readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8');
    // Instructions, continuation lines joined, comments dropped.
    const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const of = (op: string) => lines.filter((l) => l.toUpperCase().startsWith(op + ' ')).map((l) => l.slice(op.length + 1).trim());
    const froms = of('FROM');
    assert.ok(froms.length >= 1);
    for (const f of froms) assert.match(f, /^node:20-slim\b/);
    const runs = of('RUN');
    const installs = runs.filter((r) => /\bnpm ci\b/.test(r));
    assert.ok(installs.length >= 1, 'an npm ci step');
    const envSkip = of('ENV').some((e) => /ONNXRUNTIME_NODE_INSTALL[= ]skip\b/.test(e));
    for (const r of installs) assert.ok(envSkip || /ONNXRUNTIME_NODE_INSTALL=skip\s+npm ci\b/.test(r), `npm ci without ONNXRUNTIME_NODE_INSTALL=skip: ${r}`);
    assert.ok(runs.some((r) => /\bnpm run build\b/.test(r)), 'a build step');
    assert.ok(runs.findIndex((r) => /\bnpm ci\b/.test(r)) < runs.findIndex((r) => /\bnpm run build\b/.test(r)), 'npm ci before the build');
    const entry = of('ENTRYPOINT');
    assert.equal(entry.length, 1);
    const argv = JSON.parse(entry[0]) as string[];
    assert.equal(argv[0], 'node');
    assert.match(argv[1], /(^|\/)bin\/layer-profiler\.js$/);
    // COPY sources from the build context (the repository root) exist; the launcher finds dist/cli.js.
    for (const c of of('COPY').filter((x) => !x.startsWith('--from'))) {
      for (const src of c.split(/\s+/).slice(0, -1)) assert.ok(existsSync(path.join(ROOT, src)), `COPY ${src}: not in the repository`);
    }
    assert.match(readFileSync(path.join(ROOT, 'bin/layer-profiler.js'), 'utf8'), /'dist', 'cli\.js'/);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    assert.ok(pkg.scripts.build, 'package.json has a build script');
  });
});
