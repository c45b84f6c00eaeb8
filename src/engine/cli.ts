import { chatCommand } from './commands/chat.js';
import { type Command, UsageError } from './commands/command.js';
import { dataCommand } from './commands/data.js';
import { distillCommand } from './commands/distill.js';
import { estimateCommand } from './commands/estimate.js';
import { evaluateCommand, exportCommand, predictCommand } from './commands/model-commands.js';
import { ngramCommand } from './commands/ngram.js';
import { scoreCommand } from './commands/score.js';
import { selftestCommand } from './commands/selftest.js';
import { serveCommand } from './commands/serve.js';
import { submitCommand } from './commands/submit.js';
import { sweepCommand } from './commands/sweep.js';
import { sweepTaskCommand } from './commands/sweep-task.js';
import { tokenizerCommand } from './commands/tokenizer.js';
import { resumeCommand, trainCommand } from './commands/train.js';
import { validateCommand } from './commands/validate.js';
import { installWarningHandler } from './train/run-job.js';

/**
 * `finetune <command> [options]`: the engine's command line, one table of name -> command.
 * Never imports 'vscode'.
 */
const COMMANDS: Readonly<Record<string, Command>> = {
  train: trainCommand,
  resume: resumeCommand,
  sweep: sweepCommand,
  submit: submitCommand,
  'sweep-task': sweepTaskCommand,
  predict: predictCommand,
  evaluate: evaluateCommand,
  export: exportCommand,
  selftest: selftestCommand,
  validate: validateCommand,
  estimate: estimateCommand,
  data: dataCommand,
  ngram: ngramCommand,
  score: scoreCommand,
  chat: chatCommand,
  serve: serveCommand,
  tokenizer: tokenizerCommand,
  distill: distillCommand,
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: finetune <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n'finetune <command> --help' describes a command.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`finetune: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    const parseError = err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS');
    if (err instanceof UsageError || parseError) {
      process.stderr.write(`finetune ${name}: ${(err as Error).message}\n\n${command.usage}`);
      return 2;
    }
    throw err;
  }
}

installWarningHandler();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Users get the message; the stack only with FINETUNE_DEBUG=1 (errors here say what and where).
    const debug = process.env.FINETUNE_DEBUG === '1';
    process.stderr.write(
      `finetune: ${err instanceof Error ? (debug ? (err.stack ?? err.message) : err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  },
);
