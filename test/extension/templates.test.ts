import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONFIG_TEMPLATES } from '../../src/extension/configs/templates.js';
import { CONFIG_FILE_RE } from '../../src/extension/ids.js';
import { validateConfigText } from '../../src/shared/config-validate.js';

test('every task has a template, and each validates without errors or warnings', () => {
  assert.deepEqual(
    CONFIG_TEMPLATES.map((t) => t.task),
    ['text-classification', 'token-classification', 'question-answering', 'causal-lm'],
  );
  for (const t of CONFIG_TEMPLATES) {
    assert.match(t.fileName, CONFIG_FILE_RE);
    const { parsed, diagnostics } = validateConfigText(t.yaml, 'yaml');
    const serious = diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning');
    assert.deepEqual(
      serious.map((d) => `${d.code}: ${d.message}`),
      [],
      t.task,
    );
    assert.equal(parsed.root?.kind, 'object');
  }
});
