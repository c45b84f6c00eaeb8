import type { DataConfig } from '../../shared/config.js';
import { DataError, typeName } from './errors.js';
import { at, present, text } from './fields.js';
import type { Columns, RawRow, Seq2SeqExample } from './records.js';

/**
 * Translation and summarization rows: two text columns (data.source_column, data.target_column),
 * or Hugging Face's translation datasets, `{"translation": {"en": "…", "de": "…"}}`, read by
 * data.source_lang and data.target_lang.
 */
export const TRANSLATION_FIELD = 'translation';

/** The seq2seq columns a data config names: source/target columns, else source/target languages. */
export function seq2seqColumns(cfg: Partial<DataConfig>): Pick<Columns, 'seq2seq'> {
  if (cfg.source_column !== undefined && cfg.target_column !== undefined)
    return { seq2seq: { source: cfg.source_column, target: cfg.target_column, from: 'columns' } };
  if (cfg.source_lang !== undefined && cfg.target_lang !== undefined)
    return { seq2seq: { source: cfg.source_lang, target: cfg.target_lang, from: 'translation' } };
  return {};
}

function seq2seqOf(c: Columns): NonNullable<Columns['seq2seq']> {
  if (!c.seq2seq) {
    throw new Error(
      'translation and summarization read data.source_column and data.target_column, or data.source_lang and data.target_lang with rows of {"translation": {<source_lang>: …, <target_lang>: …}}',
    );
  }
  return c.seq2seq;
}

/** The fields a seq2seq row must have, with the config keys that name them. */
export function seq2seqFields(c: Columns): { name: string; key: string }[] {
  const s = seq2seqOf(c);
  if (s.from === 'translation') return [{ name: TRANSLATION_FIELD, key: 'data.source_lang and data.target_lang' }];
  return [
    { name: s.source, key: 'data.source_column' },
    { name: s.target, key: 'data.target_column' },
  ];
}

/** A seq2seq row: two text columns, or the two languages of its `translation` object. */
export function seq2seqExample(row: RawRow, c: Columns): Seq2SeqExample {
  const s = seq2seqOf(c);
  if (s.from === 'columns') {
    return {
      kind: 'seq2seq',
      sourceText: text(row, s.source, 'data.source_column'),
      targetText: text(row, s.target, 'data.target_column'),
      source: row.source,
    };
  }
  let pairs = present(row, TRANSLATION_FIELD, 'data.source_lang and data.target_lang');
  const where = at(row, TRANSLATION_FIELD);
  const shape = `an object {"${s.source}": text, "${s.target}": text}`;
  if (row.textual && typeof pairs === 'string') {
    try {
      pairs = JSON.parse(pairs);
    } catch {
      throw new DataError('wrong-type', `'${TRANSLATION_FIELD}' is not valid JSON`, where, shape);
    }
  }
  if (typeof pairs !== 'object' || pairs === null || Array.isArray(pairs))
    throw new DataError('wrong-type', `'${TRANSLATION_FIELD}' is ${typeName(pairs)}`, where, shape);
  const byLang = pairs as Record<string, unknown>;
  const side = (lang: string, key: string): string => {
    const v = byLang[lang];
    const name = `'${TRANSLATION_FIELD}.${lang}'`;
    if (v === undefined) {
      const langs = Object.keys(byLang).join(', ') || 'none';
      throw new DataError(
        'missing-column',
        `${name} is missing (languages: ${langs})`,
        where,
        `a '${lang}' text (${key})`,
      );
    }
    if (typeof v !== 'string') throw new DataError('wrong-type', `${name} is ${typeName(v)}`, where, 'a string');
    if (v.trim() === '') throw new DataError('empty-text', `${name} is empty`, where, 'non-empty text');
    return v;
  };
  return {
    kind: 'seq2seq',
    sourceText: side(s.source, 'data.source_lang'),
    targetText: side(s.target, 'data.target_lang'),
    source: row.source,
  };
}
