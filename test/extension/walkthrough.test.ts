import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { CONTEXT_KEYS, EXAMPLE_CONFIG } from '../../src/extension/ids.js';

/**
 * The "Fine-tune your first model" walkthrough (package.json contributes.walkthroughs) against the
 * code: every command a step links to or completes on is contributed, every media file exists,
 * every `onContext:` key is one the extension sets, and the example its first step copies is in
 * the repository and not left out of the package.
 */
const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; image?: string; svg?: string; altText?: string };
  completionEvents?: string[];
}

const walkthroughs = pkg.contributes.walkthroughs as { id: string; title: string; steps: Step[] }[];
const commands = new Set<string>(pkg.contributes.commands.map((c: { command: string }) => c.command));

/** The source files of src/extension, by path relative to the repository. */
function extensionSources(dir = join(root, 'src', 'extension')): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) for (const [p, s] of extensionSources(path)) out.set(p, s);
    else if (name.endsWith('.ts')) out.set(relative(root, path), readFileSync(path, 'utf8'));
  }
  return out;
}

test('the first-run walkthrough: its steps in order, each completing on what the user does', () => {
  const first = walkthroughs.find((w) => w.title === 'Fine-tune your first model');
  assert.ok(first);
  assert.deepEqual(
    first.steps.map((s) => [s.id, s.completionEvents]),
    [
      ['openExample', ['onCommand:finetune.openExample']],
      ['newConfig', ['onCommand:finetune.newConfig']],
      ['validate', ['onCommand:finetune.validateConfig', `onContext:${CONTEXT_KEYS.activeConfigValid}`]],
      ['start', ['onCommand:finetune.startRun']],
      ['watch', [`onContext:${CONTEXT_KEYS.hasCompletedRuns}`]],
      ['tryModel', ['onCommand:finetune.predictOnSelection']],
    ],
  );
});

test('every step names contributed commands, existing media and context keys the extension sets', () => {
  const sources = extensionSources();
  const keyNames = new Map(Object.entries(CONTEXT_KEYS).map(([name, key]) => [key as string, name]));
  for (const w of walkthroughs) {
    const ids = w.steps.map((s) => s.id);
    assert.equal(new Set(ids).size, ids.length, `${w.id}: step ids are unique`);
    for (const step of w.steps) {
      const where = `${w.id}/${step.id}`;
      assert.ok(step.title && step.description, where);
      const linked = [...step.description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1] as string);
      for (const id of linked) assert.ok(commands.has(id), `${where}: link to ${id}`);
      const events = step.completionEvents ?? [];
      assert.ok(events.length > 0, `${where}: completes on an event, not on opening the step`);
      for (const event of events) {
        const [kind, arg = ''] = event.split(/:(.*)/s);
        if (kind === 'onCommand') assert.ok(commands.has(arg), `${where}: ${event}`);
        else if (kind === 'onContext') {
          // A context key of ours, sent with setContext by some file other than the list of ids.
          const name = keyNames.get(arg);
          assert.ok(name, `${where}: ${arg} is not in CONTEXT_KEYS`);
          const setters = [...sources].filter(
            ([path, text]) => !path.endsWith('ids.ts') && text.includes(`CONTEXT_KEYS.${name}`),
          );
          assert.ok(setters.length > 0, `${where}: nothing in src/extension sets ${arg}`);
        } else assert.fail(`${where}: unexpected completion event ${event}`);
      }
      const media = Object.entries(step.media).filter(([k]) => k !== 'altText');
      assert.equal(media.length, 1, `${where}: one media`);
      for (const [kind, file] of media) {
        assert.ok(existsSync(join(root, file)), `${where}: ${kind} ${file} exists`);
        assert.ok(file.startsWith('media/walkthrough/'), `${where}: ${file} is under media/walkthrough/`);
        if (kind !== 'markdown') continue;
        const text = readFileSync(join(root, file), 'utf8');
        assert.match(text, /^# \S/, file);
        // Images the page shows, relative to it: present, with a description.
        for (const [, alt, image] of text.matchAll(/!\[([^\]]*)\]\(([^)\s]+)\)/g)) {
          assert.ok(alt?.trim(), `${file}: ${image} has alt text`);
          assert.ok(existsSync(join(root, 'media', 'walkthrough', image as string)), `${file}: ${image} exists`);
        }
      }
    }
  }
});

test('the bundled example the first step copies is in the repository and ships in the package', () => {
  assert.ok(existsSync(join(root, 'examples', 'sentiment', EXAMPLE_CONFIG)));
  assert.ok(existsSync(join(root, 'examples', 'sentiment', 'tiny-bert', 'config.json')));
  const ignored = readFileSync(join(root, '.vscodeignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const pattern of ['examples/**', 'examples/sentiment/**', 'examples/*'])
    assert.ok(!ignored.includes(pattern), `.vscodeignore leaves out the example (${pattern})`);
});
