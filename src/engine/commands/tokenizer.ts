import { parseArgs } from 'node:util';
import { TokenizerTrainingError } from '../tokenizer-training/corpus.js';
import { TOKENIZER_TYPES } from '../tokenizer-training/layouts.js';
import { type TrainingProgress, trainTokenizer } from '../tokenizer-training/train.js';
import { type Command, choiceOption, intOption, UsageError } from './command.js';

const USAGE = `usage: finetune tokenizer train --type T --vocab-size N --input FILE... --out DIR
                                [--text-column text] [--min-frequency 2] [--lowercase]

Trains a tokenizer on a corpus and writes tokenizer.json, tokenizer_config.json and
special_tokens_map.json (and vocab.txt for WordPiece) to DIR, loadable by Hugging Face
transformers / tokenizers and by this project.

  --type T            wordpiece       BERT: [PAD] [UNK] [CLS] [SEP] [MASK], BertNormalizer, "##" pieces
                      bpe             RoBERTa: byte-level BPE with <s> <pad> </s> <unk> <mask>
                      byte-level-bpe  GPT-2: byte-level BPE with <|endoftext|>
                      unigram         SentencePiece unigram (Metaspace) with <pad> <unk> <s> </s> <mask>
  --vocab-size N      the vocabulary size, special tokens included
  --input FILE        a JSON-lines file (.jsonl, one text per row), a text file (one text per
                      line) or a folder of .txt files; repeat for more
  --text-column C     the text column of JSON-lines inputs (default text)
  --min-frequency F   pairs seen fewer times are not merged (default 2; not for unigram)
  --lowercase         lowercase the text (in the tokenizer's normalizer)
  --out DIR           where the files go (created if missing)
`;

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** Progress on a terminal: one rewritten stderr line while reading, then the training phase. */
function progressPrinter(): ((p: TrainingProgress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  const started = performance.now();
  return (p) => {
    if (p.phase === 'read') {
      const seconds = (performance.now() - started) / 1000;
      const pct = p.totalBytes > 0 ? ` (${Math.floor((100 * p.bytes) / p.totalBytes)}%)` : '';
      const rate = seconds > 0 ? `, ${(p.bytes / 1e6 / seconds).toFixed(1)} MB/s` : '';
      process.stderr.write(
        `\rreading ${(p.bytes / 1e6).toFixed(1)} of ${(p.totalBytes / 1e6).toFixed(1)} MB${pct}${rate}, ` +
          `${p.texts} texts, ${p.words} distinct words\x1b[K`,
      );
    } else {
      process.stderr.write(`\rtraining on ${p.words} distinct words...\x1b[K\n`);
    }
  };
}

async function train(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      type: { type: 'string' },
      'vocab-size': { type: 'string' },
      input: { type: 'string', multiple: true },
      'text-column': { type: 'string' },
      'min-frequency': { type: 'string' },
      lowercase: { type: 'boolean' },
      out: { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const type = choiceOption(required(values.type, 'type'), 'type', TOKENIZER_TYPES) ?? 'wordpiece';
  const vocabSize = intOption(required(values['vocab-size'], 'vocab-size'), 'vocab-size') ?? 0;
  if (vocabSize < 1) throw new UsageError('--vocab-size must be at least 1');
  const inputs = values.input ?? [];
  if (inputs.length === 0) throw new UsageError('--input is required');
  const minFrequency = intOption(values['min-frequency'], 'min-frequency');
  if (minFrequency !== undefined && type === 'unigram') {
    throw new UsageError('--min-frequency applies to wordpiece, bpe and byte-level-bpe, not unigram');
  }
  const started = performance.now();
  try {
    const summary = await trainTokenizer({
      type,
      vocabSize,
      inputs,
      textColumn: values['text-column'] ?? 'text',
      minFrequency: minFrequency ?? 2,
      lowercase: values.lowercase === true,
      out: required(values.out, 'out'),
      onProgress: progressPrinter(),
    });
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `${type} tokenizer, ${summary.vocabSize} tokens, trained on ${summary.texts} texts ` +
        `(${(summary.bytes / 1e6).toFixed(1)} MB, ${summary.words} distinct words) in ${seconds.toFixed(1)} s: ` +
        `${summary.files.join(', ')} in ${values.out}\n`,
    );
    return 0;
  } catch (err) {
    if (!(err instanceof TokenizerTrainingError)) throw err;
    process.stderr.write(`finetune tokenizer: ${err.message}\n`);
    return 1;
  }
}

export const tokenizerCommand: Command = {
  summary: 'train a tokenizer (WordPiece, BPE, byte-level BPE, Unigram) on a corpus',
  usage: USAGE,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub !== 'train')
      throw new UsageError(sub === undefined ? 'missing subcommand: train' : `unknown subcommand '${sub}'`);
    return train(rest);
  },
};
