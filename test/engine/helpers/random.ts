export { normal, rng } from '../../../src/engine/util/random.js';
export { testSeed } from '../../seed.js';
