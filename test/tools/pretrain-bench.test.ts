import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mailText, type SpamMail, splitMails } from '../../src/tools/bench/spam-corpus.js';
import { fitLogistic, predictProbability, TfidfVectorizer, tfidfTokens } from '../../src/tools/bench/tfidf.js';

/**
 * The pieces of `npm run bench -- --only pretrain` that are not the engine: the TF-IDF + logistic
 * regression baseline (scikit-learn's TfidfVectorizer and LogisticRegression defaults, as their
 * documentation states the formulas) and the mail preparation.
 */

test("tokens as scikit-learn's default token_pattern (?u)\\b\\w\\w+\\b after lowercasing", () => {
  assert.deepEqual(tfidfTokens('Hello, World! a 42 x_y Ünïcode I'), ['hello', 'world', '42', 'x_y', 'ünïcode']);
});

test('idf = ln((1 + n) / (1 + df)) + 1 (smooth_idf), raw counts times idf, rows L2-normalised', () => {
  const v = new TfidfVectorizer().fit(['spam offer now', 'offer meeting', 'meeting notes']);
  const idf = (word: string) => v.idf[v.vocabulary.get(word) as number] as number;
  // n = 3: df(spam) = 1, df(offer) = 2.
  assert.ok(Math.abs(idf('spam') - (Math.log(4 / 2) + 1)) < 1e-12);
  assert.ok(Math.abs(idf('offer') - (Math.log(4 / 3) + 1)) < 1e-12);
  const row = v.transform('Offer offer SPAM unknownword');
  const raw = [2 * idf('offer'), idf('spam')];
  const norm = Math.hypot(...raw);
  const byId = new Map([...row.ids].map((id, i) => [id, row.values[i] as number]));
  assert.equal(byId.size, 2, 'words outside the vocabulary are dropped');
  assert.ok(Math.abs((byId.get(v.vocabulary.get('offer') as number) as number) - (raw[0] as number) / norm) < 1e-12);
  assert.ok(Math.abs((byId.get(v.vocabulary.get('spam') as number) as number) - (raw[1] as number) / norm) < 1e-12);
  assert.deepEqual([...v.transform('nothing known').ids], []);
});

test('logistic regression reaches the minimum of Σ logloss + ||w||² / 2C (gradient zero), intercept unpenalised', () => {
  const texts = [
    'cheap pills offer',
    'win money offer now',
    'meeting notes attached',
    'lunch meeting today',
    'money now',
  ];
  const labels = [1, 1, 0, 0, 1];
  const v = new TfidfVectorizer().fit(texts);
  const rows = texts.map((t) => v.transform(t));
  const fit = fitLogistic(rows, labels, v.vocabulary.size, { tolerance: 1e-9 });
  // The objective's gradient, computed densely here, independently of the fitting code.
  const dense = rows.map((r) => {
    const x = new Array<number>(v.vocabulary.size).fill(0);
    r.ids.forEach((id, k) => {
      x[id] = r.values[k] as number;
    });
    return x;
  });
  const residual = dense.map(
    (x, i) =>
      1 / (1 + Math.exp(-(fit.intercept + x.reduce((a, xj, j) => a + xj * (fit.weights[j] as number), 0)))) -
      (labels[i] as number),
  );
  const gb = residual.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(gb) < 1e-8, `intercept gradient ${gb}`);
  for (let j = 0; j < v.vocabulary.size; j++) {
    const g = (fit.weights[j] as number) + dense.reduce((a, x, i) => a + (residual[i] as number) * (x[j] as number), 0);
    assert.ok(Math.abs(g) < 1e-8, `weight ${j} gradient ${g}`);
  }
  // C = 1 on five rows: the fit is regularised, yet ranks every training row on the right side.
  rows.forEach((r, i) => {
    assert.equal(predictProbability(fit, r) >= 0.5, labels[i] === 1, texts[i]);
  });
  const strong = fitLogistic(rows, labels, v.vocabulary.size, { c: 100, tolerance: 1e-9 });
  assert.ok(Math.hypot(...strong.weights) > Math.hypot(...fit.weights), 'a larger C regularises less');
});

test("a mail's text is its Subject (folded lines joined) and its body; the other headers are dropped", () => {
  const raw =
    'Received: from list.example.org\r\nSubject: Cheap\r\n pills today\r\nX-Mailer: Foo\r\n\r\nBuy   now!\r\n\r\nBye\r\n';
  assert.equal(mailText(raw, 1000), 'Cheap pills today Buy now! Bye');
  assert.equal(mailText(raw, 11), 'Cheap pills');
  assert.equal(mailText('From: a@b\n\nno subject here', 100), 'no subject here');
});

test('the split is seeded, disjoint, and the labelled rows come from the training mails', () => {
  const mails: SpamMail[] = Array.from({ length: 100 }, (_, i) => ({
    text: `mail ${i}`,
    label: i % 3 === 0 ? 'spam' : 'ham',
  }));
  mails.push({ text: '', label: 'ham' });
  const a = splitMails(mails, { seed: 42, testShare: 0.2, labeled: 30 });
  const b = splitMails(mails, { seed: 42, testShare: 0.2, labeled: 30 });
  assert.deepEqual(a, b);
  assert.equal(a.test.length, 20, 'the empty mail is left out');
  assert.equal(a.train.length, 80);
  const test = new Set(a.test.map((m) => m.text));
  assert.ok(a.train.every((m) => !test.has(m.text)));
  assert.deepEqual(a.labeled, a.train.slice(0, 30));
  assert.notDeepEqual(splitMails(mails, { seed: 7, testShare: 0.2, labeled: 30 }).test, a.test);
  assert.throws(() => splitMails(mails, { seed: 1, testShare: 0.2, labeled: 81 }), /only 80 training mails/);
});
