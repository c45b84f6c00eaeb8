import type { ConfigTemplate } from './templates.js';

/**
 * The "chat fine-tune (LoRA)" template: supervised fine-tuning of an instruct decoder on
 * conversations, with the settings TRL's SFT + PEFT examples use (LoRA r 16, alpha 32, dropout
 * 0.05 on every linear layer, learning rate 2e-4, cosine schedule with warmup). Its example data
 * file is written beside it, so the config runs as created once the model is downloaded.
 */

/** A few conversations in OpenAI's chat format, system + user + assistant, one per line. */
const EXAMPLE_CONVERSATIONS: readonly (readonly [string, string, string])[] = [
  [
    'You are a concise assistant for a bicycle repair shop.',
    'My chain keeps slipping when I pedal hard. What should I check?',
    'Check three things: chain wear (a chain checker should read under 0.5%), a worn cassette or chainring, and the rear derailleur adjustment. A new chain on a worn cassette also slips, so replace them together if both are worn.',
  ],
  [
    'You are a concise assistant for a bicycle repair shop.',
    'How often should I pump up my tyres?',
    'Road tyres lose pressure fastest: check them weekly. Hybrid and mountain bike tyres every two weeks. The recommended range is printed on the tyre sidewall.',
  ],
  [
    'You are a concise assistant for a bicycle repair shop.',
    'Do you repair electric bikes?',
    'Yes. We service the brakes, gears and wheels of any e-bike, and the motors and batteries of Bosch and Shimano systems. Bring the charger if the battery is the problem.',
  ],
  [
    'You are a concise assistant for a bicycle repair shop.',
    'What are your opening hours?',
    'Monday to Friday 9:00 to 18:00, Saturday 10:00 to 16:00. We are closed on Sundays.',
  ],
];

const jsonl = (conversations: typeof EXAMPLE_CONVERSATIONS) =>
  `${conversations
    .map(([system, user, assistant]) =>
      JSON.stringify({
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: user },
          { role: 'assistant', content: assistant },
        ],
      }),
    )
    .join('\n')}\n`;

export const CHAT_DATA_FILE = 'data/chat-train.jsonl';
export const CHAT_VALIDATION_FILE = 'data/chat-validation.jsonl';

export const CHAT_TEMPLATE: ConfigTemplate = {
  task: 'causal-lm',
  label: 'Chat fine-tune (LoRA)',
  detail: 'Teach an instruct model your conversations: OpenAI-format messages, LoRA on every linear layer',
  fileName: 'chat.finetune.yaml',
  files: {
    [CHAT_DATA_FILE]: jsonl(EXAMPLE_CONVERSATIONS.slice(0, -1)),
    [CHAT_VALIDATION_FILE]: jsonl(EXAMPLE_CONVERSATIONS.slice(-1)),
  },
  yaml: `# Fine-tune a chat model on conversations. Data: JSON Lines, one conversation per line in OpenAI's
# format: {"messages": [{"role": "system", "content": ...}, {"role": "user", ...}, {"role": "assistant", ...}]}.
# ${CHAT_DATA_FILE} and ${CHAT_VALIDATION_FILE} are small examples written next to this file: replace them.
model: HuggingFaceTB/SmolLM2-135M-Instruct   # an instruct model with a chat template (Llama, Mistral, Qwen, ...)
task: causal-lm
data:
  train: ${CHAT_DATA_FILE}
  validation: ${CHAT_VALIDATION_FILE}   # conversations held out to measure progress (or: validation_split: 0.05)
  format: messages            # rendered with the model's chat template (tokenizer_config.json)
  max_length: 512             # tokens per conversation; longer ones are cut (on_long_rows: truncate | skip)
training:
  method: lora                # low-rank adapters next to frozen weights: a fraction of full fine-tuning's memory
  assistant_only_loss: true   # learn the assistant's replies only, not the system and user turns
  epochs: 3                   # passes over the training conversations
  batch_size: 4               # conversations per forward pass
  gradient_accumulation_steps: 4   # 4 x 4 = 16 conversations per optimizer step
  learning_rate: 2.0e-4       # LoRA trains well at a higher rate than full fine-tuning
  warmup_ratio: 0.03          # the first 3% of steps ramp the learning rate up from 0
  scheduler: cosine           # linear | cosine | constant
  max_grad_norm: 1.0          # gradient clipping
  seed: 42                    # shuffling and adapter initialisation
  lora:
    r: 16                     # the rank of each adapter: more capacity, more memory
    alpha: 32                 # the adapters' scale is alpha / r
    dropout: 0.05             # dropout on the adapters' input
    target_modules: all-linear   # every linear layer but the output head, or a list such as [q_proj, v_proj]
eval:
  every: epoch                # evaluate on the validation conversations after each epoch
  metrics: [perplexity]
device: auto                  # auto | cpu | cuda
`,
};
