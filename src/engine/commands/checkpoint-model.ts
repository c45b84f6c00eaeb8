import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { RUN_FILES } from '../../shared/run-directory.js';
import { readHfConfig } from '../io/hf-config.js';
import { resolveModel } from '../io/hub-download.js';
import { savePretrained } from '../io/pretrained.js';
import { readSafetensors } from '../io/safetensors.js';
import { loraFor } from '../methods/method.js';
import { causalLmModel } from '../models/decoder.js';
import { HfConfigReader } from '../models/hf-config.js';
import { decoderFamilyOf } from '../models/registry.js';
import { STATE_FILE, verifyCheckpoint } from '../train/checkpoint-state.js';
import { loadConfig } from '../train/finetune.js';

/**
 * A training checkpoint (`<run>/checkpoints/step-<N>/`) as a causal LM folder. A checkpoint holds
 * the weights being trained (LoRA adapters unmerged) but no config.json or tokenizer: those are
 * the base model's, named by the run's config.yaml. The folder built here is what final/ would be
 * had the run ended at that step: base config and tokenizer, weights with adapters merged (as
 * the trainer's final export merges them). It lives in a temporary folder until `dispose`.
 */
export function isCheckpointFolder(dir: string): boolean {
  return (
    existsSync(join(dir, STATE_FILE)) &&
    existsSync(join(dir, 'model.safetensors')) &&
    !existsSync(join(dir, 'config.json')) &&
    basename(dirname(dir)) === RUN_FILES.checkpoints
  );
}

export interface MaterializedModel {
  folder: string;
  dispose(): void;
}

export async function checkpointModel(checkpoint: string): Promise<MaterializedModel> {
  const damage = verifyCheckpoint(checkpoint);
  if (damage) throw new Error(`checkpoint ${checkpoint} is damaged: ${damage.file} ${damage.problem}`);
  const runDir = dirname(dirname(checkpoint));
  const configFile = join(runDir, RUN_FILES.config);
  if (!existsSync(configFile))
    throw new Error(`${checkpoint}: its run directory ${runDir} has no ${RUN_FILES.config} naming the base model`);
  const config = loadConfig(configFile);
  const base = await resolveModel(config.model);
  const hfConfig = readHfConfig(base.folder);
  const reader = new HfConfigReader(hfConfig, join(base.folder, 'config.json'));
  const family = decoderFamilyOf(reader);
  let weights = readSafetensors(join(checkpoint, 'model.safetensors')).tensors;
  const lora = loraFor(config, hfConfig.model_type ?? '');
  if (lora) {
    // The adapted modules are those the checkpoint holds adapters for; the others were trained in
    // full or frozen. Planning over the model (as training did) gives each module's layout, which
    // the merge needs (GPT-2's Conv1D stores its weight transposed).
    const model = causalLmModel(family, { config: reader, adapters: lora.hook });
    const adapted = (p: string) => weights.has(p.replace(/\.weight$/, '.lora_A.weight'));
    lora.plan(model, new Set(model.params.map((p) => p.name).filter((p) => !adapted(p))));
    weights = lora.merge(weights);
  }
  const folder = mkdtempSync(join(tmpdir(), 'finetune-chat-'));
  const dispose = () => rmSync(folder, { recursive: true, force: true });
  try {
    savePretrained(folder, weights, hfConfig, {
      tokenizerFrom: base.folder,
      architectures: [family.causalLmArchitecture],
    });
  } catch (err) {
    dispose();
    throw err;
  }
  return { folder, dispose };
}
