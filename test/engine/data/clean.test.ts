import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cleaner } from '../../../src/engine/data/clean.js';
import { dedupExact, dedupNear, emptyDedupReport, estimatedJaccard, minhash } from '../../../src/engine/data/dedup.js';
import type { Example, QaExample, TextExample } from '../../../src/engine/data/records.js';
import { resolvedClean } from './resolved.js';

let line = 0;
const t = (text: string, label: string | number = 'a', pair?: string): TextExample => ({
  kind: 'text',
  text,
  ...(pair === undefined ? {} : { pair }),
  label,
  source: { file: 'f.jsonl', line: ++line },
});

test('default cleaning: NFC, control characters, whitespace; each step counts the examples it changed', () => {
  const c = new Cleaner(resolvedClean());
  const out = [
    t('Cafe\u0301  au\tlait'), // NFC + whitespace
    t('ok\u0007 go\uFEFF'), // control + BOM
    t('line one\r\n\r\nline two '), // a run with a line break stays one line break
    t('unchanged text'),
    t(' \u0000 '), // nothing left
  ].map((e) => c.example(e));
  assert.deepEqual(
    out.map((e) => (e as TextExample | undefined)?.text),
    ['Café au lait', 'ok go', 'line one\nline two', 'unchanged text', undefined],
  );
  assert.deepEqual(c.counts, {
    examples: 5,
    html: 0,
    normalized: 1,
    control: 2,
    whitespace: 3,
    lowercased: 0,
    emptied: 1,
    answersLost: 0,
  });
});

test('optional steps: NFKC, lowercase, HTML stripping (block tags separate words, entities decoded)', () => {
  const c = new Cleaner(resolvedClean({ normalize: 'NFKC', lowercase: true, strip_html: true }));
  const e = c.example(t('<p>Ｆｕｌｌ</p><div>wid<b>th</b> &amp; &#233;&#x41;</div><script>x()</script> a < b'));
  assert.equal(e?.kind === 'text' && e.text, 'full width & éa a < b');
  assert.deepEqual([c.counts.html, c.counts.normalized, c.counts.lowercased], [1, 1, 1]);
  const none = new Cleaner(resolvedClean({ normalize: 'none', collapse_whitespace: false, strip_control: false }));
  const raw = t('Cafe\u0301  \u0007');
  assert.equal(none.example(raw), raw);
});

test('question answering: answers are found again in the cleaned context', () => {
  const context = 'The  <b>cat</b>  sat.\u0007 The cat ran.';
  const qa: QaExample = {
    kind: 'qa',
    question: ' Who ran? ',
    context,
    answers: { text: ['cat', 'The cat'], answer_start: [context.lastIndexOf('cat'), context.lastIndexOf('The cat')] },
    source: { file: 'q.jsonl', line: 1 },
  };
  const c = new Cleaner(resolvedClean({ strip_html: true }));
  const out = c.example(qa);
  assert.ok(out?.kind === 'qa');
  assert.equal(out.context, 'The cat sat. The cat ran.');
  assert.deepEqual(out.answers, { text: ['cat', 'The cat'], answer_start: [17, 13] });
  for (let i = 0; i < 2; i++) {
    const s = out.answers.answer_start[i] as number;
    const a = out.answers.text[i] as string;
    assert.equal(out.context.slice(s, s + a.length), a);
  }
  const lost = c.example({ ...qa, answers: { text: ['<b>'], answer_start: [context.indexOf('<b>')] } });
  assert.equal(lost, undefined);
  assert.equal(c.counts.answersLost, 1);
});

test('token classification: tokens are cleaned one by one, an emptied token goes with its tag', () => {
  const c = new Cleaner(resolvedClean({ lowercase: true }));
  const out = c.example({
    kind: 'tokens',
    tokens: ['John', '\u0000', 'Smith '],
    tags: ['B-PER', 'O', 'I-PER'],
    source: { file: 'n.jsonl', line: 1 },
  });
  assert.deepEqual(out?.kind === 'tokens' && [out.tokens, out.tags], [
    ['john', 'smith'],
    ['B-PER', 'I-PER'],
  ]);
});

test('exact de-duplication keeps the first and lists duplicates with a different label as conflicts', () => {
  const report = emptyDedupReport();
  const es: Example[] = [t('same', 'a'), t('other', 'a'), t('same', 'a'), t('same', 'b'), t('same', 'a', 'pair')];
  const kept = dedupExact(es, report);
  assert.deepEqual(
    kept.map((e) => e.source.line),
    [es[0], es[1], es[4]].map((e) => e?.source.line),
  );
  assert.equal(report.exact, 2);
  assert.equal(report.conflicting, 1);
  assert.deepEqual(report.conflicts[0]?.labels, ['"a"', '"b"']);
  assert.equal(report.conflicts[0]?.removed.line, es[3]?.source.line);
});

test('near de-duplication: one word changed in a long text is a near duplicate, a different text is not', () => {
  const words = Array.from({ length: 60 }, (_, i) => `w${(i * 7919) % 1000}`);
  const base = words.join(' ');
  const oneOff = [...words.slice(0, 30), 'changed', ...words.slice(31)].join(' ');
  const punct = `${base.toUpperCase()}!!`;
  const different = Array.from({ length: 60 }, (_, i) => `v${i}`).join(' ');
  const sa = minhash(base) as Uint32Array;
  assert.ok(estimatedJaccard(sa, minhash(oneOff) as Uint32Array) >= 0.8);
  assert.ok(estimatedJaccard(sa, minhash(different) as Uint32Array) < 0.2);
  const report = emptyDedupReport();
  const es = [t(base), t(different), t(oneOff), t(punct), t('short'), t('Short!')];
  const kept = dedupNear(es, report);
  assert.deepEqual(
    kept.map((e) => (e as TextExample).text),
    [base, different, 'short'],
  );
  assert.equal(report.near, 3);
  assert.deepEqual(report.nearExamples[0], { kept: es[0]?.source, removed: es[2]?.source });
});
