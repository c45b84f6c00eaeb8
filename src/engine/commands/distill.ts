import { parseArgs } from 'node:util';
import { initStudent } from '../distill/init-student.js';
import { modelFolderOf } from '../inference/finetuned-model.js';
import { type Command, intOption, UsageError } from './command.js';

const USAGE = `usage: finetune distill init --teacher DIR --layers N --out DIR

Writes a student model folder for training.distillation, initialised from a teacher as DistilBERT
was from BERT: the teacher's embeddings, head and layers 0, 2, 4, ... (every other layer),
config.json with N layers, and the teacher's tokenizer. BERT, RoBERTa, ELECTRA and DistilBERT.

  --teacher DIR   a run directory (its final/ model) or a Hugging Face model folder
  --layers N      the student's layers: 1 to half the teacher's (rounded up)
  --out DIR       the student folder (replaced if it exists); use it as the config's model
`;

async function init(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { teacher: { type: 'string' }, layers: { type: 'string' }, out: { type: 'string' } },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (!values.teacher) throw new UsageError('--teacher is required');
  if (!values.out) throw new UsageError('--out is required');
  const layers = intOption(values.layers, 'layers');
  if (layers === undefined || layers < 1) throw new UsageError('--layers must be at least 1');
  const folder = modelFolderOf(values.teacher);
  const made = initStudent(folder, layers, values.out);
  process.stdout.write(
    `student with ${layers} layers (teacher layers ${made.teacherLayers.join(', ')}), ${made.tensors} tensors: ${values.out}\n`,
  );
  return 0;
}

export const distillCommand: Command = {
  summary: "initialise a distillation student from a teacher's layers",
  usage: USAGE,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub !== 'init')
      throw new UsageError(sub === undefined ? 'missing subcommand: init' : `unknown subcommand '${sub}'`);
    return init(rest);
  },
};
