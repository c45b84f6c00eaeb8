import type { ResolvedCleanConfig } from '../../shared/config.js';
import type { CleanCounts } from '../../shared/data-report.js';
import type { Example, QaExample, TokensExample } from './records.js';

/**
 * `data.clean`: text cleaning applied to every text field of an example, in this order (the steps
 * the config turns on; their defaults are in config-defaults.ts):
 *   1. strip_html: drop <script>/<style> blocks, comments and tags (block-level
 *      tags become a space so words on either side stay apart), decode the common entities;
 *   2. normalize (NFC, NFKC, or none): Unicode normalisation;
 *   3. strip_control: remove C0/C1 control characters other than tab, line feed, vertical
 *      tab, form feed and carriage return (left to step 4), and stray U+FEFF byte-order marks;
 *   4. collapse_whitespace: a run of whitespace becomes one line break when it holds one
 *      (so causal-LM text keeps its lines), else one space; leading and trailing space is removed;
 *   5. lowercase.
 * Each count is the number of examples a step changed. An example left without text is dropped
 * and counted. For question answering each answer is found again in the cleaned context (the
 * occurrence nearest to where its cleaned prefix ends); an answer lost that way drops the example.
 */
export type { CleanCounts };

type Step = 'html' | 'normalized' | 'control' | 'whitespace' | 'lowercased';

const BLOCK_TAG = /^<\/?(?:br|p|div|li|ul|ol|tr|td|th|table|h[1-6]|blockquote|pre|hr|section|article)\b/i;
const TAG = /<!--[\s\S]*?-->|<(script|style)\b[\s\S]*?<\/\1\s*>|<\/?[a-zA-Z][^<>]*>/g;
const ENTITY = /&(?:#(\d+)|#x([0-9a-fA-F]+)|(amp|lt|gt|quot|apos|nbsp));/g;
const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
const CONTROL = /(?![\t\n\v\f\r])[\p{Cc}\uFEFF]/gu;
const WHITESPACE_RUN = /\s+/g;
const NEEDS_COLLAPSE = /\s\s|[^\S ]|^\s|\s$/;

function stripHtml(s: string): string {
  if (!s.includes('<') && !s.includes('&')) return s;
  return s
    .replace(TAG, (tag) => (BLOCK_TAG.test(tag) || tag.startsWith('<!--') ? ' ' : ''))
    .replace(ENTITY, (_, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
      if (name !== undefined) return NAMED[name] as string;
      const code = dec !== undefined ? Number(dec) : Number.parseInt(hex as string, 16);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
    });
}

function collapse(s: string): string {
  if (!NEEDS_COLLAPSE.test(s)) return s;
  return s.replace(WHITESPACE_RUN, (run) => (run.includes('\n') || run.includes('\r') ? '\n' : ' ')).trim();
}

/** Counts of nothing cleaned yet (a Cleaner's start; sums of several cleaners start here too). */
export function emptyCleanCounts(): CleanCounts {
  return { examples: 0, html: 0, normalized: 0, control: 0, whitespace: 0, lowercased: 0, emptied: 0, answersLost: 0 };
}

export class Cleaner {
  readonly counts: CleanCounts = emptyCleanCounts();
  private readonly steps: { step: Step; apply: (s: string) => string }[] = [];
  private changed = new Set<Step>();

  constructor(cfg: ResolvedCleanConfig) {
    const form = cfg.normalize;
    if (cfg.strip_html) this.steps.push({ step: 'html', apply: stripHtml });
    if (form !== 'none') this.steps.push({ step: 'normalized', apply: (s) => s.normalize(form) });
    if (cfg.strip_control) this.steps.push({ step: 'control', apply: (s) => s.replace(CONTROL, '') });
    if (cfg.collapse_whitespace) this.steps.push({ step: 'whitespace', apply: collapse });
    if (cfg.lowercase) this.steps.push({ step: 'lowercased', apply: (s) => s.toLowerCase() });
  }

  /** Cleans one string; `track` records which steps changed it. */
  text(s: string, track = true): string {
    let out = s;
    for (const { step, apply } of this.steps) {
      const next = apply(out);
      if (track && next !== out) this.changed.add(step);
      out = next;
    }
    return out;
  }

  /** The cleaned example, or undefined when it is dropped (counted). */
  example(e: Example): Example | undefined {
    this.counts.examples++;
    if (this.steps.length === 0) return e;
    this.changed.clear();
    const out = this.clean(e);
    for (const step of this.changed) this.counts[step]++;
    return out;
  }

  private clean(e: Example): Example | undefined {
    switch (e.kind) {
      case 'text': {
        const text = this.text(e.text);
        const pair = e.pair === undefined ? undefined : this.text(e.pair);
        if (text === '' || pair === '') return this.drop('emptied');
        return { ...e, text, ...(pair === undefined ? {} : { pair }) };
      }
      case 'tokens':
        return this.tokens(e);
      case 'qa':
        return this.qa(e);
      case 'completion': {
        const prompt = this.text(e.prompt);
        const completion = this.text(e.completion);
        if (prompt === '' || completion === '') return this.drop('emptied');
        return { ...e, prompt, completion };
      }
      case 'seq2seq': {
        const sourceText = this.text(e.sourceText);
        const targetText = this.text(e.targetText);
        if (sourceText === '' || targetText === '') return this.drop('emptied');
        return { ...e, sourceText, targetText };
      }
      case 'chat': {
        const messages = e.messages.map((m) => ({ ...m, content: this.text(m.content) }));
        // A turn the cleaning empties: the conversation is no longer the one written.
        if (messages.some((m, i) => m.content === '' && e.messages[i]?.content !== '')) return this.drop('emptied');
        return { ...e, messages };
      }
    }
  }

  private drop(why: 'emptied' | 'answersLost'): undefined {
    this.counts[why]++;
    return undefined;
  }

  /** Tokens are words already: whitespace inside one is collapsed, and a token left empty goes with its tag. */
  private tokens(e: TokensExample): TokensExample | undefined {
    const tokens: string[] = [];
    const tags: TokensExample['tags'] = [];
    e.tokens.forEach((t, i) => {
      const c = this.text(t);
      if (c !== '') {
        tokens.push(c.replace(WHITESPACE_RUN, ' '));
        tags.push(e.tags[i] as TokensExample['tags'][number]);
      }
    });
    if (tokens.length === 0) return this.drop('emptied');
    return { ...e, tokens, tags };
  }

  private qa(e: QaExample): QaExample | undefined {
    const question = this.text(e.question);
    const context = this.text(e.context);
    if (question === '' || context === '') return this.drop('emptied');
    const text: string[] = [];
    const starts: number[] = [];
    for (let i = 0; i < e.answers.text.length; i++) {
      const answer = this.text(e.answers.text[i] as string, false);
      const start = e.answers.answer_start[i] as number;
      const estimate = this.text(e.context.slice(0, start), false).length;
      const at = nearestOccurrence(context, answer, estimate);
      if (answer === '' || at === -1) return this.drop('answersLost');
      text.push(answer);
      starts.push(at);
    }
    return { ...e, question, context, answers: { text, answer_start: starts } };
  }
}

/** Index of the occurrence of `needle` in `hay` closest to `near`, or -1. */
export function nearestOccurrence(hay: string, needle: string, near: number): number {
  let best = -1;
  for (let i = hay.indexOf(needle); i !== -1; i = hay.indexOf(needle, i + 1)) {
    if (best === -1 || Math.abs(i - near) < Math.abs(best - near)) best = i;
    if (i > near) break;
  }
  return best;
}
