import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig, validateConfigText } from '../../src/shared/config-validate.js';

const BASE = `model: ./m
task: text-classification
data:
  train: t.jsonl
  validation: v.jsonl
`;

function errors(launcher: string) {
  return validateConfigText(`${BASE}launcher:\n${launcher}`, 'yaml').diagnostics.filter((d) => d.severity === 'error');
}

test('a full Slurm launcher block is valid and reaches the resolved config as written', () => {
  const block = `  type: slurm
  partition: debug
  time: "1-02:30:00"
  cpus_per_task: 4
  mem: 16G
  gpus: a100:1
  account: lab
  qos: normal
  extra_args: [--constraint=a100, --exclusive]
`;
  assert.deepEqual(errors(block), []);
  const { config } = resolveConfig(`${BASE}launcher:\n${block}`, 'yaml');
  assert.deepEqual(config?.launcher, {
    type: 'slurm',
    partition: 'debug',
    time: '1-02:30:00',
    cpus_per_task: 4,
    mem: '16G',
    gpus: 'a100:1',
    account: 'lab',
    qos: 'normal',
    extra_args: ['--constraint=a100', '--exclusive'],
  });
  assert.deepEqual(errors('  type: slurm\n  time: 90\n  mem: 2048\n  gpus: 2\n'), []);
});

test('bad launcher values are errors on their own line (0-based; `launcher:` is line 5), saying what Slurm accepts', () => {
  const cases: [string, RegExp, number][] = [
    ['  type: pbs\n', /type/i, 6],
    ['  type: slurm\n  time: 1h\n', /minutes, MM:SS, HH:MM:SS/, 7],
    ['  type: slurm\n  mem: 16GB\n', /megabytes, or a number with K, M, G or T/, 7],
    ['  type: slurm\n  gpus: one\n', /a count, or type:count/, 7],
    ['  type: slurm\n  partition: "my partition"\n', /partition name has no spaces/, 7],
    ['  type: slurm\n  extra_args: [exclusive]\n', /one sbatch option/, 7],
    ['  type: slurm\n  nodes: 2\n', /nodes/, 7],
    ['  partition: debug\n', /type/, 5],
  ];
  for (const [block, message, line] of cases) {
    const [e, ...rest] = errors(block);
    assert.ok(e, `no error for ${JSON.stringify(block)}`);
    assert.equal(rest.length, 0, JSON.stringify(rest.map((d) => d.message)));
    assert.match(e.message, message, block);
    assert.equal(e.range.start.line, line, `${block}: ${e.message}`);
  }
});

test('a sweep cannot search the launcher', () => {
  const text = `${BASE}eval:\n  metrics: [accuracy]\nsweep:\n  parameters:\n    - {key: launcher.partition, type: choice, values: [a, b]}\n`;
  const found = validateConfigText(text, 'yaml').diagnostics.filter((d) => d.severity === 'error');
  assert.match(found[0]?.message ?? '', /launcher can't be searched/);
});
