/**
 * Nothing lost, nothing silent (issue 8, command-line items 1-11): outputs written through devices,
 * FIFOs and symlinks; every output and merge input checked before the model loads; signals that
 * still write what is finished; NaN activations; merges that would count texts twice; unclear
 * messages. Each case runs the real command line, as the hostile tester did.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, chmodSync, createReadStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Ajv2020 from 'ajv/dist/2020';
import { onnx } from 'onnx-proto';
import { ensureModel } from './modelgen';
import { loadTokenizer } from '../src/core/model/tokenizer';
import { defaultThreads } from '../src/core/runtime/cores';
import { CSV_COLUMNS, toCsv } from '../src/core/results/build';
import type { ProfileResults } from '../src/core/results';
import { resultsOf } from './support/compareFixtures';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'src/cli/index.ts');
// By path, so the command line can run from any folder.
const TSX = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const isRoot = process.getuid?.() === 0;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], cwd = ROOT): { child: ChildProcess; done: Promise<Run>; stderrSoFar: () => string } {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd, env: { ...process.env, NODE_OPTIONS: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, stderrSoFar: () => stderr };
}

async function cli(args: string[], cwd = ROOT): Promise<Run> {
  const r = await start(args, cwd).done;
  // ONNX Runtime's own log lines are coloured; none may reach the user.
  assert.doesNotMatch(r.stderr, /\x1b\[/, `a coloured (ONNX Runtime) line on stderr:\n${r.stderr}`);
  return r;
}

/** Resolves when stderr matches `pattern`. */
function waitFor(run: ReturnType<typeof start>, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; stderr:\n${run.stderrSoFar()}`)), timeoutMs);
    const check = () => {
      if (pattern.test(run.stderrSoFar())) {
        clearTimeout(timer);
        run.child.stderr!.off('data', check);
        resolve();
      }
    };
    run.child.stderr!.on('data', check);
    check();
  });
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validateResults = ajv.compile(JSON.parse(readFileSync(path.join(ROOT, 'schema/profile-v2.schema.json'), 'utf8')));
function readResults(file: string): ProfileResults {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  assert.ok(validateResults(r), JSON.stringify(validateResults.errors, null, 2));
  return r as ProfileResults;
}

function tmp(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `lp-safe-${prefix}-`));
}

function smallDataset(): string {
  const dir = tmp('ds');
  writeFileSync(path.join(dir, 'a.py'), 'def add(a, b):\n    return a + b\n');
  writeFileSync(path.join(dir, 'b.py'), 'import os\nprint(os.getcwd())\n');
  return dir;
}

/** A dataset of `short` small files, then one text of about `longTokens` tokens on one line. */
function longDataset(short: number, longTokens: number): string {
  const dir = tmp('long');
  for (let i = 0; i < short; i++) writeFileSync(path.join(dir, `a${String(i).padStart(3, '0')}.py`), `def f${i}(x):\n    return x * ${i}\n`);
  const parts: string[] = [];
  for (let i = 0; parts.length * 9 < longTokens; i++) parts.push(`v${i} = ${i} * x + y`);
  writeFileSync(path.join(dir, 'z_long.py'), parts.join('; '));
  return dir;
}

/** Seconds since `t0`. */
const since = (t0: number) => (Date.now() - t0) / 1000;

describe('command line: nothing lost, nothing silent', function () {
  let modelDir: string;
  before(async () => {
    modelDir = (await ensureModel('optimum-llama')).dir;
  });
  const profile = (...args: string[]) => ['profile', '--model', modelDir, ...args];

  describe('1. outputs written through, never renamed over', () => {
    it('a FIFO output is written through and stays a FIFO', async () => {
      const dir = tmp('fifo-out');
      const fifo = path.join(dir, 'results.json');
      execFileSync('mkfifo', [fifo]);
      let received = '';
      const reader = createReadStream(fifo, { encoding: 'utf8' });
      reader.on('data', (d) => (received += d));
      const readerDone = new Promise<void>((r) => reader.on('close', () => r()));
      const r = await cli(profile('--dataset', `py=${smallDataset()}`, '--json', fifo, '--quiet'));
      assert.equal(r.code, 0, r.stderr);
      await readerDone;
      assert.ok(lstatSync(fifo).isFIFO(), 'the FIFO was replaced');
      assert.equal((JSON.parse(received) as ProfileResults).datasets[0].texts, 2);
      assert.deepEqual(readdirSync(dir), ['results.json'], 'nothing left beside it');
    });

    it('a symlinked output keeps its link; the target gets the results', async () => {
      const dir = tmp('link-out');
      const target = path.join(dir, 'real.json');
      writeFileSync(target, 'old');
      const link = path.join(dir, 'link.json');
      symlinkSync('real.json', link);
      const danglingTarget = path.join(dir, 'not-yet.csv');
      const dangling = path.join(dir, 'dangling.csv');
      symlinkSync('not-yet.csv', dangling);
      const r = await cli(profile('--dataset', `py=${smallDataset()}`, '--json', link, '--csv', dangling, '--quiet'));
      assert.equal(r.code, 0, r.stderr);
      assert.ok(lstatSync(link).isSymbolicLink(), 'the link was replaced by a file');
      assert.ok(lstatSync(dangling).isSymbolicLink(), 'the dangling link was replaced by a file');
      assert.equal(readResults(target).datasets[0].texts, 2);
      assert.match(readFileSync(danglingTarget, 'utf8'), /^dataset,layer/);
    });

    it('a device output is written through: /dev/full stays a device, the results go to a recovery file, the table is printed', async function () {
      const dir = tmp('dev-out');
      const full = path.join(dir, 'full');
      try {
        execFileSync('mknod', [full, 'c', '1', '7']);
      } catch {
        if (!isRoot) this.skip();
        throw new Error('mknod failed as root');
      }
      const r = await cli(profile('--dataset', `py=${smallDataset()}`, '--json', full, '--quiet'), dir);
      assert.equal(r.code, 1, r.stderr);
      assert.ok(lstatSync(full).isCharacterDevice(), 'the device node was replaced by a regular file');
      assert.match(r.stderr, new RegExp(`Cannot write ${full}: no space left on the device\\. The results are saved in (\\S+)\\.`));
      const recovery = /The results are saved in (\S+)\./.exec(r.stderr)![1];
      assert.equal(path.dirname(recovery), dir);
      assert.equal(readResults(recovery).datasets[0].texts, 2);
      assert.match(r.stdout, /dataset py: 2 texts/);
      assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
    });
  });

  describe('2. every output and merge input checked before the model loads', () => {
    const refusedEarly = (r: Run, pattern: RegExp) => {
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr, /loading|found \d+ layers/, 'the model was loaded first');
      assert.equal(r.stdout, '');
    };

    it('a folder, a parent that is a file, a missing parent folder (not created), no permission', async () => {
      const dir = tmp('bad-out');
      const ds = smallDataset();
      writeFileSync(path.join(dir, 'file'), 'x');
      refusedEarly(await cli(profile('--dataset', `py=${ds}`, '--json', dir)), /--json .* is a folder; give a file name/);
      refusedEarly(await cli(profile('--dataset', `py=${ds}`, '--csv', path.join(dir, 'file', 'out.csv'))), /--csv .*file is a file, not a folder/);
      const missing = path.join(dir, 'no', 'such', 'out.json');
      refusedEarly(await cli(profile('--dataset', `py=${ds}`, '--json', missing)), /the folder .*no\/such does not exist \(create it first\)/);
      assert.ok(!existsSync(path.join(dir, 'no')), 'folders were created');
      refusedEarly(await cli(profile('--dataset', `py=${ds}`, '--compare-json', path.join(dir, 'file', 'c.json'))), /--compare-json/);
      if (!isRoot) {
        const locked = path.join(dir, 'locked');
        mkdirSync(locked);
        chmodSync(locked, 0o500);
        refusedEarly(await cli(profile('--dataset', `py=${ds}`, '--json', path.join(locked, 'r.json'))), /no permission to create files in/);
      }
    });

    it('a corrupt or another model\'s --merge-into fails before profiling, and nothing is left behind', async () => {
      const dir = tmp('bad-merge');
      const ds = smallDataset();
      writeFileSync(path.join(dir, 'corrupt.json'), '{"schema": "layer-profiler/profile@2", "datasets": [');
      refusedEarly(await cli(profile('--dataset', `py=${ds}`, '--merge-into', path.join(dir, 'corrupt.json'), '--json', path.join(dir, 'out.json'))), /corrupt\.json is not JSON/);
      const other = resultsOf({ py: [[0.1, 0.2], [0.2, 0.3], [0.3, 0.4]] }, true);
      writeFileSync(path.join(dir, 'other.json'), JSON.stringify(other));
      const r = await cli(profile('--dataset', `py=${ds}`, '--merge-into', path.join(dir, 'other.json'), '--json', path.join(dir, 'out.json')));
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--merge-into .*other\.json holds results of another model \(test-model/);
      assert.doesNotMatch(r.stderr, /\[py\]/, 'it profiled first');
      assert.deepEqual(readdirSync(dir).sort(), ['corrupt.json', 'other.json']);
    });
  });

  describe('3. signals', () => {
    for (const [sig, code] of [['SIGTERM', 143], ['SIGHUP', 129]] as const) {
      it(`${sig} writes the finished texts (exit ${code})`, async () => {
        const ds = longDataset(3, 200_000);
        const out = path.join(tmp(sig), 'r.json');
        const run = start(profile('--dataset', `py=${ds}`, '--json', out, '--max-tokens', '64', '--batch-size', '1', '--max-file-size', '10000000'));
        await waitFor(run, /\[py\] 3\/4 texts, [1-9]\d*\/~/);
        run.child.kill(sig);
        const r = await run.done;
        assert.equal(r.code, code, r.stderr);
        const ds0 = readResults(out).datasets[0];
        assert.equal(ds0.partial, true);
        assert.equal(ds0.texts, 3);
        assert.match(r.stderr, /cancelled: the results above hold the texts finished/);
      });
    }

    it('Ctrl-C inside one long text stops within seconds (between windows) and writes the texts before it', async () => {
      const ds = longDataset(2, 200_000);
      const out = path.join(tmp('sigint-long'), 'r.json');
      const run = start(profile('--dataset', `py=${ds}`, '--json', out, '--max-tokens', '64', '--batch-size', '1', '--max-file-size', '10000000'));
      // Progress inside the long text: tokens move while texts stand at 2 of 3.
      await waitFor(run, /\[py\] 2\/3 texts, [1-9]\d*\/~\d+ tokens.*left/);
      const t0 = Date.now();
      run.child.kill('SIGINT');
      const r = await run.done;
      assert.ok(since(t0) < 5, `took ${since(t0)} s to stop`);
      assert.equal(r.code, 130, r.stderr);
      const d = readResults(out).datasets[0];
      assert.equal(d.texts, 2);
      assert.equal(d.partial, true);
    });

    it('a second signal saves the finished texts and quits at once, inside a long text', async () => {
      const ds = longDataset(3, 200_000);
      // Both signals arrive before the process runs again. Almost always the second is handled
      // while the current window still runs and saves the finished texts itself; but where the
      // window's end was already queued when the process stopped, handling the first finishes it
      // and writes the results the ordinary way, and the second only quits. Either way the
      // results must be whole; the attempts go on until the emergency save itself was seen.
      let emergencySaves = 0;
      for (let attempt = 0; attempt < 4 && emergencySaves === 0; attempt++) {
        const out = path.join(tmp(`sigint-twice-${attempt}`), 'r.json');
        const run = start(profile('--dataset', `py=${ds}`, '--json', out, '--csv', out.replace('.json', '.csv'), '--max-tokens', '64', '--batch-size', '1', '--max-file-size', '10000000'));
        await waitFor(run, /\[py\] 3\/4 texts, [1-9]\d*\/~/);
        run.child.kill('SIGSTOP');
        run.child.kill('SIGINT');
        run.child.kill('SIGTERM');
        run.child.kill('SIGCONT');
        const r = await run.done;
        // The exit status is that of the signal handled second.
        const second = /(SIGINT|SIGTERM): quitting(; the finished texts are written| at once)/.exec(r.stderr);
        assert.ok(second, r.stderr);
        assert.equal(r.code, second[1] === 'SIGINT' ? 130 : 143, r.stderr);
        if (second[2] === ' at once') assert.match(r.stderr, /cancelled: the results above hold the texts finished/);
        else emergencySaves++;
        const d = readResults(out).datasets[0];
        assert.equal(d.texts, 3);
        assert.equal(d.partial, true);
        assert.match(readFileSync(out.replace('.json', '.csv'), 'utf8'), /,true\n/);
      }
      assert.equal(emergencySaves, 1, 'no attempt reached the emergency save');
    });
  });

  describe('4. non-finite values and tampered input', () => {
    let nanModel: string;
    before(async () => {
      nanModel = await modelWithNaNEmbeddings(modelDir, '§');
    });

    it('a text whose activations are NaN is skipped with a reason naming the layer; the rest are profiled and the JSON is valid', async () => {
      const dir = smallDataset();
      writeFileSync(path.join(dir, 'c.py'), 'print("§ sign")\n');
      const out = tmp('nan');
      const r = await cli(['profile', '--model', nanModel, '--dataset', `py=${dir}`, '--json', path.join(out, 'r.json'), '--csv', path.join(out, 'r.csv')]);
      assert.equal(r.code, 0, r.stderr);
      const d = readResults(path.join(out, 'r.json')).datasets[0];
      assert.equal(d.texts, 2);
      const skip = d.skipped.find((s) => s.path.endsWith('c.py'));
      assert.match(skip?.reason ?? '', /not finite: NaN or infinite at layer 0 \(mean, absMean/);
      assert.doesNotMatch(r.stdout, /—/);
      assert.doesNotMatch(readFileSync(path.join(out, 'r.csv'), 'utf8'), /,,/);
    });

    it('a run where no text could be profiled exits non-zero and writes nothing', async () => {
      const dir = tmp('all-nan');
      writeFileSync(path.join(dir, 'c.py'), '§\n');
      const out = path.join(dir, 'r.json');
      const r = await cli(['profile', '--model', nanModel, '--dataset', `py=${dir}`, '--json', out]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /No text was profiled/);
      assert.ok(!existsSync(out));
    });

    it('merge refuses a tampered file (n = -5, a string mean) by name', async () => {
      const dir = tmp('tampered');
      const out = path.join(dir, 'good.json');
      assert.equal((await cli(profile('--dataset', `py=${smallDataset()}`, '--json', out, '--quiet'))).code, 0);
      const good = JSON.parse(readFileSync(out, 'utf8'));
      good.datasets[0].layers[0].absMean.n = -5;
      writeFileSync(path.join(dir, 'neg.json'), JSON.stringify(good));
      good.datasets[0].layers[0].absMean.n = 2;
      good.datasets[0].moments.layers[1].mean.mean = 'big';
      writeFileSync(path.join(dir, 'str.json'), JSON.stringify(good));
      const neg = await cli(['merge', out, path.join(dir, 'neg.json'), '--json', path.join(dir, 'm.json')]);
      assert.equal(neg.code, 2);
      assert.match(neg.stderr, /neg\.json is not a valid results file: datasets\.0\.layers\.0\.absMean\.n must be >= 0/);
      const str = await cli(['merge', path.join(dir, 'str.json'), out, '--json', path.join(dir, 'm.json')]);
      assert.equal(str.code, 2);
      assert.match(str.stderr, /str\.json is not a valid results file: .*moments\.layers\.1\.mean is not a count, mean and m2/);
      assert.doesNotMatch(neg.stderr + str.stderr, /TypeError|Cannot read properties|Invalid string length/);
      assert.ok(!existsSync(path.join(dir, 'm.json')));
    });
  });

  describe('5. merges that would count texts twice or mix settings', () => {
    it('merging a file with itself is refused; --force merges with a warning', async () => {
      const dir = tmp('self');
      const a = path.join(dir, 'a.json');
      assert.equal((await cli(profile('--dataset', `py=${smallDataset()}`, '--json', a, '--quiet'))).code, 0);
      const r = await cli(['merge', a, a, '--json', path.join(dir, 'm.json')]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /dataset "py": 2 of its texts are in both .*a\.json and .*a\.json \(same content, e\.g\. .*a\.py\); merging would count them twice\. Pass --force/);
      assert.ok(!existsSync(path.join(dir, 'm.json')));
      const forced = await cli(['merge', a, a, '--json', path.join(dir, 'm.json'), '--force']);
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stderr, /warning: .*merged anyway: --force/);
      assert.equal(readResults(path.join(dir, 'm.json')).datasets[0].texts, 4);
    });

    it('runs with different --max-tokens are refused; forced, the merged file records both settings', async () => {
      const dir = tmp('settings');
      const ds = smallDataset();
      const other = smallDataset();
      writeFileSync(path.join(other, 'a.py'), 'x = 1\n');
      writeFileSync(path.join(other, 'b.py'), 'y = 2\n');
      assert.equal((await cli(profile('--dataset', `py=${ds}`, '--json', path.join(dir, 'a.json'), '--max-tokens', '16', '--quiet'))).code, 0);
      assert.equal((await cli(profile('--dataset', `py=${other}`, '--json', path.join(dir, 'b.json'), '--max-tokens', '32', '--quiet'))).code, 0);
      const r = await cli(['merge', path.join(dir, 'a.json'), path.join(dir, 'b.json'), '--json', path.join(dir, 'm.json')]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /the window \(--max-tokens\) differs: 16 in .*a\.json, 32 in .*b\.json/);
      // --merge-into checks the settings before the run.
      const into = await cli(profile('--dataset', `py=${other}`, '--max-tokens', '32', '--merge-into', path.join(dir, 'a.json'), '--json', path.join(dir, 'n.json')));
      assert.equal(into.code, 2);
      assert.doesNotMatch(into.stderr, /\[py\]/);
      const forced = await cli(['merge', path.join(dir, 'a.json'), path.join(dir, 'b.json'), '--json', path.join(dir, 'm.json'), '--force']);
      assert.equal(forced.code, 0, forced.stderr);
      const m = readResults(path.join(dir, 'm.json'));
      assert.deepEqual(m.provenance?.mergedFrom?.map((x) => x.settings.maxTokens), [16, 32]);
    });
  });

  describe('6. special files', () => {
    it('a FIFO in a dataset folder is listed as skipped; a FIFO or /dev/zero as the dataset path is refused in words', async () => {
      const ds = smallDataset();
      execFileSync('mkfifo', [path.join(ds, 'pipe.py')]);
      const out = path.join(tmp('fifo-in'), 'r.json');
      const r = await cli(profile('--dataset', `py=${ds}`, '--json', out));
      assert.equal(r.code, 0, r.stderr);
      const d = readResults(out).datasets[0];
      assert.equal(d.texts, 2);
      assert.match(d.skipped.find((s) => s.path.endsWith('pipe.py'))?.reason ?? '', /FIFO/);
      for (const p of [path.join(ds, 'pipe.py'), '/dev/zero']) {
        const bad = await cli(profile('--dataset', `x=${p}`));
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /Dataset 'x': .* is a (FIFO|character device).*; give a folder or a text file/);
        assert.doesNotMatch(bad.stderr, /ENOTDIR|scandir/);
      }
    });
  });

  describe('7-8. progress and threads', () => {
    it('reports progress inside a long text, with time left from tokens', async () => {
      const ds = longDataset(0, 60_000);
      const r = await cli(profile('--dataset', `py=${ds}`, '--max-tokens', '64'));
      assert.equal(r.code, 0, r.stderr);
      const inside = r.stderr.split('\n').filter((l) => /^\[py\] 0\/1 texts, [1-9]\d*\/~\d+ tokens/.test(l));
      assert.ok(inside.length >= 1, r.stderr);
      assert.match(inside[inside.length - 1], /~\d+ (s|min) left/);
    });

    it('--threads above the core count is capped with a warning', async () => {
      const out = path.join(tmp('threads'), 'r.json');
      const r = await cli(profile('--dataset', `py=${smallDataset()}`, '--threads', '999', '--json', out, '--quiet'));
      assert.equal(r.code, 0, r.stderr);
      const cores = os.availableParallelism();
      assert.match(r.stderr, new RegExp(`--threads 999 is more than the ${cores} cores here; using ${cores}`));
      assert.equal(readResults(out).runtime.threads, cores);
    });

    it('without --threads runs one ONNX Runtime thread per physical core and records it', async () => {
      const out = path.join(tmp('threads-default'), 'r.json');
      const r = await cli(profile('--dataset', `py=${smallDataset()}`, '--json', out, '--quiet'));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readResults(out).runtime.threads, defaultThreads());
    });
  });

  describe('9. errors in words', () => {
    it("ONNX Runtime's refusal names the user's file, not the temporary copy, and no coloured log line appears", async () => {
      const dir = tmp('ort-refuses');
      for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(modelDir, f), path.join(dir, f));
      const model = onnx.ModelProto.decode(readFileSync(path.join(modelDir, 'onnx/model.onnx')));
      const node = model.graph!.node!.find((n) => n.opType === 'Softmax')!;
      node.domain = 'com.example.nosuchdomain';
      writeFileSync(path.join(dir, 'model.onnx'), onnx.ModelProto.encode(model).finish());
      const r = await cli(['inspect', '--model', dir]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`ONNX Runtime cannot load ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/model\\.onnx`));
      assert.doesNotMatch(r.stderr, /layer-profiler-\w+\/|\.tmp/);
    });
  });

  describe('10. clear messages', () => {
    it('a corrupt config.json is an error naming it', async () => {
      const dir = tmp('bad-config');
      mkdirSync(path.join(dir, 'onnx'));
      copyFileSync(path.join(modelDir, 'onnx/model.onnx'), path.join(dir, 'onnx/model.onnx'));
      for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(modelDir, f), path.join(dir, f));
      writeFileSync(path.join(dir, 'config.json'), '{"architectures": ["LlamaForCausalLM"], ');
      const r = await cli(profile('--dataset', `py=${smallDataset()}`).map((a) => (a === modelDir ? dir : a)));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /config\.json is not valid JSON/);
    });

    it('every dataset empty exits non-zero; an empty dataset keeps its CSV row', async () => {
      const r = await cli(profile('--dataset', `py=${smallDataset()}`, '--include', '*.nothing'));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /No text was profiled/);
      const out = tmp('empty-csv');
      const r2 = await cli(profile('--dataset', `py=${smallDataset()}`, '--dataset', `none=${tmp('nothing')}`, '--csv', path.join(out, 'r.csv'), '--quiet'));
      assert.equal(r2.code, 0, r2.stderr);
      assert.match(readFileSync(path.join(out, 'r.csv'), 'utf8'), /\nnone,,0,/);
    });

    it('--json - writes to stdout (the table to stderr); --json X --csv X and --dataset =DIR are refused', async () => {
      const cwd = tmp('stdout');
      const r = await cli(profile('--dataset', `py=${smallDataset()}`, '--json', '-', '--quiet'), cwd);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as ProfileResults).datasets[0].texts, 2);
      assert.match(r.stderr, /dataset py: 2 texts/);
      assert.deepEqual(readdirSync(cwd), []);
      const same = await cli(profile('--dataset', `py=${smallDataset()}`, '--json', path.join(cwd, 'x'), '--csv', path.join(cwd, 'x')));
      assert.equal(same.code, 2);
      assert.match(same.stderr, /--json and --csv name the same file/);
      const noName = await cli(profile('--dataset', `=${smallDataset()}`));
      assert.equal(noName.code, 2);
      assert.match(noName.stderr, /has no name before '='; write name=/);
    });
  });

  describe('11. CSV', () => {
    it('has a partial column and escapes formula-leading names', () => {
      const r = resultsOf({ '=HYPERLINK("x")': [[0.1, 0.2]], '+a': [[0.1, 0.2]], '-b': [[0.1, 0.2]], '@c': [[0.1, 0.2]], 'plain,name': [[0.1, 0.2]] });
      r.datasets[1].partial = true;
      const lines = toCsv(r).trim().split('\n');
      assert.equal(lines[0], CSV_COLUMNS.join(','));
      assert.equal(CSV_COLUMNS[CSV_COLUMNS.length - 1], 'partial');
      assert.match(lines[1], /^"'=HYPERLINK\(""x""\)",0,/);
      assert.match(lines[2], /^'\+a,0,.*,true$/);
      assert.match(lines[3], /^'-b,0,.*,false$/);
      assert.match(lines[4], /^'@c,/);
      assert.match(lines[5], /^"plain,name",0,/);
    });
  });
});

/** A copy of the model whose embedding rows for the tokens of `text` are NaN. */
async function modelWithNaNEmbeddings(modelDir: string, text: string): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lp-safe-nanmodel-'));
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(modelDir, f), path.join(dir, f));
  const tokenizer = await loadTokenizer(modelDir);
  const ids = tokenizer.encode(text).ids;
  const model = onnx.ModelProto.decode(readFileSync(path.join(modelDir, 'onnx/model.onnx')));
  const gather = model.graph!.node!.find((n) => n.opType === 'Gather' && model.graph!.initializer!.some((i) => i.name === n.input![0]))!;
  const table = model.graph!.initializer!.find((i) => i.name === gather.input![0])!;
  const hidden = Number(table.dims![1]);
  const values = table.rawData && table.rawData.length ? new Float32Array(new Uint8Array(table.rawData).buffer.slice(0)) : Float32Array.from(table.floatData!);
  for (const id of ids) values.fill(NaN, id * hidden, (id + 1) * hidden);
  if (table.rawData && table.rawData.length) table.rawData = new Uint8Array(values.buffer);
  else table.floatData = Array.from(values);
  mkdirSync(path.join(dir, 'onnx'));
  writeFileSync(path.join(dir, 'onnx/model.onnx'), onnx.ModelProto.encode(model).finish());
  assert.ok(statSync(path.join(dir, 'onnx/model.onnx')).size > 1000);
  return dir;
}
