import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TensorData } from '../graph/types.js';
import { modelFolderOf } from '../inference/finetuned-model.js';
import { writeDirAtomic } from '../io/atomic.js';
import { readHfConfig, writeHfConfig } from '../io/hf-config.js';
import { TOKENIZER_FILES } from '../io/pretrained.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { layerPrefixOf } from '../models/encoder.js';
import { HfConfigReader } from '../models/hf-config.js';
import { encoderFamilyOf } from '../models/registry.js';

/**
 * `finetune distill init`: a student folder made of a teacher's layers, as DistilBERT was
 * initialised from BERT (Sanh et al. 2019, transformers' research_projects/distillation/scripts/
 * extract_distilbert.py): the embeddings, every weight outside the layers (pooler, task head) and
 * the teacher's layers 0, 2, 4, … renumbered 0, 1, 2, …; config.json with the student's layer
 * count; the teacher's tokenizer files. BERT-shaped encoders only (BERT, RoBERTa, ELECTRA,
 * DistilBERT): ALBERT shares one layer's weights across all, XLNet's layers are its own.
 */
export interface StudentInit {
  /** The teacher's layer each student layer comes from, in order. */
  teacherLayers: number[];
  tensors: number;
}

/** Where a run with student_layers_from_teacher keeps its student's starting weights. */
export const STUDENT_INIT_DIR = 'student-init';

/** Student layer i is teacher layer 2i (`every_other`). */
export function everyOtherLayer(studentLayers: number, teacherLayers: number): number[] {
  const chosen = Array.from({ length: studentLayers }, (_, i) => 2 * i);
  const last = chosen[chosen.length - 1] ?? 0;
  if (studentLayers < 1 || last >= teacherLayers)
    throw new Error(
      `a student of ${studentLayers} layers: every other layer of the teacher's ${teacherLayers} gives 1 to ${Math.ceil(teacherLayers / 2)} layers`,
    );
  return chosen;
}

export function initStudent(teacherFolder: string, layers: number, out: string): StudentInit {
  const config = readHfConfig(teacherFolder);
  const reader = new HfConfigReader(config, join(teacherFolder, 'config.json'));
  const family = encoderFamilyOf(reader);
  const arch = family.arch(reader);
  if (arch.layers > 1 && layerPrefixOf(arch, 0) === layerPrefixOf(arch, 1))
    throw new Error(
      `${teacherFolder}: a ${family.name} model shares one layer's weights across its layers: there are no layers to pick`,
    );
  const chosen = everyOtherLayer(layers, arch.layers);
  // `encoder.layer.7` → container `encoder.layer.` and the index; weight names may carry the base prefix.
  const container = layerPrefixOf(arch, 0).replace(/0$/, '');
  const pattern = new RegExp(`^((?:${escapeRegExp(arch.basePrefix)}\\.)?${escapeRegExp(container)})(\\d+)\\.(.*)$`);
  const files = readdirSync(teacherFolder).filter((n) => n.endsWith('.safetensors'));
  if (files.length === 0) throw new Error(`${teacherFolder} has no .safetensors weights`);
  const student = new Map<string, TensorData>();
  for (const file of files) {
    for (const [name, tensor] of readSafetensors(join(teacherFolder, file)).tensors) {
      const m = pattern.exec(name);
      if (!m) {
        student.set(name, tensor);
        continue;
      }
      const at = chosen.indexOf(Number(m[2]));
      if (at >= 0) student.set(`${m[1]}${at}.${m[3]}`, tensor);
    }
  }
  const layerKey = config.n_layers !== undefined ? 'n_layers' : 'num_hidden_layers';
  writeDirAtomic(out, (dir) => {
    writeSafetensors(join(dir, 'model.safetensors'), student);
    writeHfConfig(dir, { ...config, [layerKey]: layers });
    for (const name of TOKENIZER_FILES)
      if (existsSync(join(teacherFolder, name))) copyFileSync(join(teacherFolder, name), join(dir, name));
  });
  return { teacherLayers: chosen, tensors: student.size };
}

/** Config keys that fix a layer's shape, by family naming (BERT-like, DistilBERT). */
const SHAPE_KEYS = [
  'model_type',
  'hidden_size',
  'num_attention_heads',
  'intermediate_size',
  'dim',
  'n_heads',
  'hidden_dim',
  'vocab_size',
  'embedding_size',
];

/**
 * training.distillation.student_layers_from_teacher: every_other: the student the run trains is
 * the config's model (its layer count) with the teacher's (a run directory's final/ or a folder) weights, layers 0, 2, 4, … (written to
 * `out`, a folder of the run directory). The two must share the family and the layer shape.
 */
export function studentFromTeacher(studentFolder: string, teacherPath: string, out: string): StudentInit {
  const teacherFolder = modelFolderOf(teacherPath);
  const student = readHfConfig(studentFolder);
  const teacher = readHfConfig(teacherFolder);
  for (const key of SHAPE_KEYS)
    if (student[key] !== teacher[key])
      throw new Error(
        `student_layers_from_teacher: the student's layers must have the teacher's shape: ${key} is ${JSON.stringify(student[key])} in ${studentFolder}/config.json, ${JSON.stringify(teacher[key])} in ${teacherFolder}/config.json`,
      );
  const layers = Number(student.n_layers ?? student.num_hidden_layers);
  return initStudent(teacherFolder, layers, out);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
