import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isZhSplitChar,
  tokenize13a,
  tokenizeIntl,
  tokenizeZh,
} from '../../../src/engine/tasks/metrics/bleu-tokenizers.js';

// sacreBLEU's tokenizers (sacrebleu/tokenizers/tokenizer_13a.py, tokenizer_re.py, tokenizer_intl.py,
// tokenizer_zh.py at 2.6.0). Each expected string follows the rules step by step, as commented.

const CASES_13A: [string, string, string][] = [
  // '!' is in the symbol class; ',' after a non-digit is split off.
  ['punctuation', 'Hello, world!', 'Hello , world !'],
  // '$' splits; "3.50" and "1,000.5" keep their inner period/comma (digits on both sides); the comma
  // after "50" is followed by a space (a non-digit) so it splits; the padding space splits "yen.".
  ['numbers', 'It costs $3.50, or 1,000.5 yen.', 'It costs $ 3.50 , or 1,000.5 yen .'],
  // A dash after a digit splits; one between letters is not in the symbol class and stays.
  ['dashes', '5-6 well-known', '5 - 6 well-known'],
  // The four entities are unescaped first, then their characters split as symbols.
  // &apos; is not one of them: its '&' and ';' split as symbols.
  ['entities', 'a &amp; b &lt;c&gt; &quot;q&quot; &apos;', 'a & b < c > " q " & apos ;'],
  ["apostrophes stay (' is not in the class)", "don't", "don't"],
  ['<skipped> is dropped', 'a <skipped> b', 'a b'],
  ['a hyphenated line break is joined, a newline is a space', 'tele-\nvision\nnews', 'television news'],
  // Thanks to the padding, a year's final period splits (it does not in intl).
  ['final period after a digit', 'in 2019.', 'in 2019 .'],
  // Rule 2 puts spaces on both sides of the period, though a digit follows it.
  ['period before a digit after a non-digit', 'pi is .5', 'pi is . 5'],
  ['Unicode punctuation is not split by 13a', '«Bonjour» — ok', '«Bonjour» — ok'],
  ['whitespace collapses like str.split()', ' a\u3000b\u0085c\ufeffd ', 'a b c\ufeffd'],
];

for (const [name, input, want] of CASES_13A) {
  test(`13a: ${name}`, () => assert.equal(tokenize13a(input), want));
}

const CASES_INTL: [string, string, string][] = [
  ['punctuation', 'Hello, world!', 'Hello , world !'],
  // \p{S}: '$' (Sc) splits; "3.50" keeps its period (digits on both sides).
  ['currency symbol', 'costs $3.50', 'costs $ 3.50'],
  // No padding: the final period after a digit stays (mteval-v14.pl's behaviour, kept by sacreBLEU).
  ['final period after a digit', 'in 2019.', 'in 2019.'],
  // '-' is \p{Pd}: split between letters, unlike 13a.
  ['dash between letters', 'well-known', 'well - known'],
  ['guillemets and an em dash', '«Bonjour» — ok', '« Bonjour » — ok'],
  ['a symbol outside the BMP (emoji, \\p{So})', 'ok👍go', 'ok 👍 go'],
  ['a digit grouping comma stays', '1,000 km', '1,000 km'],
];

for (const [name, input, want] of CASES_INTL) {
  test(`intl: ${name}`, () => assert.equal(tokenizeIntl(input), want));
}

const CASES_ZH: [string, string, string][] = [
  ['each CJK character and the ideographic full stop', '我爱北京。', '我 爱 北 京 。'],
  ['Latin runs stay words', 'Hello世界', 'Hello 世 界'],
  // U+201C/U+201D fall in the range Python reads from '\u20000'..'\u2a6d6': U+2001..U+2A6D.
  ['curly quotes split through the range quirk', '“你好”', '“ 你 好 ”'],
  // U+20000 and U+20001 (Extension B) are not in any range as Python compares them.
  ['astral ideographs are not split', '𠀀𠀁', '𠀀𠀁'],
  // No padding as in 13a, so the final period after a digit stays.
  ['13a rules after the split, without padding', '在2019.', '在 2019.'],
  ['13a symbols', '价格:$5', '价 格 : $ 5'],
];

for (const [name, input, want] of CASES_ZH) {
  test(`zh: ${name}`, () => assert.equal(tokenizeZh(input), want));
}

test('zh: the ranges as Python compares one character with the two-character bounds', () => {
  // '\u20000' <= c <= '\u2a6d6' holds for U+2001..U+2A6D: U+2000 is below ('\u2000' < '\u2000' + '0').
  assert.equal(isZhSplitChar('\u2000'), false);
  assert.equal(isZhSplitChar('\u2001'), true);
  assert.equal(isZhSplitChar('\u2a6d'), true);
  assert.equal(isZhSplitChar('\u2a6e'), false);
  // '\u2f800'..'\u2fa1d': U+2F81..U+2FA1.
  assert.equal(isZhSplitChar('\u2f80'), true, 'inside Kangxi Radicals U+2F00..U+2FDF anyway');
  assert.equal(isZhSplitChar(String.fromCodePoint(0x2f800)), false);
  assert.equal(isZhSplitChar('\u4e00'), true);
  assert.equal(isZhSplitChar('\u9fbb'), true);
  assert.equal(isZhSplitChar('\u9fbc'), false);
  assert.equal(isZhSplitChar('a'), false);
});
