/**
 * The truncated normal distribution as Optuna's TPE computes it (optuna/samplers/_tpe/_truncnorm.py
 * and _erf.py): log densities and quantiles that stay accurate far in the tails, where a plain
 * log(Φ(b) − Φ(a)) would be log(0). erf and erfc are FreeBSD's s_erf.c rational approximations, as
 * Optuna's _erf.py ports them, so both sides agree to the last few bits.
 */
// biome-ignore-all lint/correctness/noPrecisionLoss: s_erf.c's coefficients, digit for digit as published (the double they round to is what runs)

const poly = (c: readonly number[], x: number) => c.reduceRight((acc, k) => acc * x + k, 0);

const ERX = 8.45062911510467529297e-1;
const EFX = 1.28379167095512586316e-1;
const PP = [
  1.28379167095512558561e-1, -3.2504210724700149937e-1, -2.84817495755985104766e-2, -5.77027029648944159157e-3,
  -2.37630166566501626084e-5,
];
const QQ = [
  1, 3.97917223959155352819e-1, 6.50222499887672944485e-2, 5.08130628187576562776e-3, 1.32494738004321644526e-4,
  -3.9602282787753681232e-6,
];
const PA = [
  -2.36211856075265944077e-3, 4.14856118683748331666e-1, -3.72207876035701323847e-1, 3.18346619901161753674e-1,
  -1.10894694282396677476e-1, 3.54783043256182359371e-2, -2.166375594868790843e-3,
];
const QA = [
  1, 1.06420880400844228286e-1, 5.40397917702171048937e-1, 7.18286544141962662868e-2, 1.26171219808761642112e-1,
  1.36370839120290507362e-2, 1.1984499846799107417e-2,
];
const RA = [
  -9.86494403484714822705e-3, -6.93858572707181764372e-1, -1.05586262253232909814e1, -6.23753324503260060396e1,
  -1.62396669462573470355e2, -1.84605092906711035994e2, -8.12874355063065934246e1, -9.81432934416914548592,
];
const SA = [
  1, 1.96512716674392571292e1, 1.376577541435190426e2, 4.34565877475229228821e2, 6.45387271733267880336e2,
  4.29008140027567833386e2, 1.08635005541779435134e2, 6.57024977031928170135, -6.04244152148580987438e-2,
];
const RB = [
  -9.86494292470009928597e-3, -7.99283237680523006574e-1, -1.77579549177547519889e1, -1.60636384855821916062e2,
  -6.37566443368389627722e2, -1.02509513161107724954e3, -4.83519191608651397019e2,
];
const SB = [
  1, 3.03380607434824582924e1, 3.25792512996573918826e2, 1.53672958608443695994e3, 3.19985821950859553908e3,
  2.55305040643316442583e3, 4.74528541206955367215e2, -2.24409524465858183362e1,
];

/** erfc(x) for x ≥ 1.25 (the two tail fits of s_erf.c); 0 past 28, where it underflows. */
function erfcTail(x: number): number {
  if (x >= 28) return 0;
  const z = x * x;
  const s = 1 / z;
  const r = x < 1 / 0.35 ? poly(RA, s) / poly(SA, s) : poly(RB, s) / poly(SB, s);
  return Math.exp(-z - 0.5625 + r) / x;
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const a = Math.abs(x);
  let y: number;
  if (a < 2 ** -28) y = (1 + EFX) * a;
  else if (a < 0.84375) y = a * (1 + poly(PP, a * a) / poly(QQ, a * a));
  else if (a < 1.25) y = ERX + poly(PA, a - 1) / poly(QA, a - 1);
  else if (a < 6) y = 1 - erfcTail(a);
  else y = 1;
  return x < 0 ? -y : y;
}

export function erfc(x: number): number {
  if (x < 1.25) return 1 - erf(x);
  return erfcTail(x);
}

/** Φ, the standard normal CDF, from erf near 0 and erfc in the tails (Optuna's _ndtr_single). */
export function ndtr(a: number): number {
  const x = a / Math.SQRT2;
  if (x < -Math.SQRT1_2) return 0.5 * erfc(-x);
  if (x < Math.SQRT1_2) return 0.5 + 0.5 * erf(x);
  return 1 - 0.5 * erfc(x);
}

/** log Φ(a); an asymptotic series below −20 where Φ underflows (Optuna's _log_ndtr_single). */
export function logNdtr(a: number): number {
  if (a > 6) return -ndtr(-a); // log(1 − ε) ≈ −ε
  if (a > -20) return Math.log(ndtr(a));
  const logLhs = -0.5 * a * a - Math.log(-a) - 0.5 * Math.log(2 * Math.PI);
  let last = 0;
  let rhs = 1;
  let numerator = 1;
  let denom = 1;
  let sign = 1;
  for (let i = 1; Math.abs(last - rhs) > Number.EPSILON; i++) {
    last = rhs;
    sign = -sign;
    denom *= 1 / (a * a);
    numerator *= 2 * i - 1;
    rhs += sign * numerator * denom;
  }
  return logLhs + Math.log(rhs);
}

const logSum = (p: number, q: number) => {
  const m = Math.max(p, q);
  return m === -Infinity ? -Infinity : m + Math.log(Math.exp(p - m) + Math.exp(q - m));
};
const logDiff = (p: number, q: number) => p + Math.log1p(-Math.exp(q - p));

/** log(Φ(b) − Φ(a)): the log of the standard normal's mass on [a, b] (Optuna's _log_gauss_mass). */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logDiff(logNdtr(b), logNdtr(a));
  if (a > 0) return logDiff(logNdtr(-a), logNdtr(-b));
  return Math.log1p(-ndtr(a) - ndtr(-b));
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** x with log Φ(x) = y, by Newton's method from Optuna's starting guesses (_ndtri_exp). */
export function ndtriExp(y: number): number {
  const flipped = y > -1e-2;
  const z = flipped ? Math.log(-Math.expm1(y)) : y;
  let x = z < -5 ? -Math.sqrt(-2 * (z + LOG_SQRT_2PI)) : (-Math.sqrt(3) / Math.PI) * Math.log(Math.expm1(-z));
  for (let i = 0; i < 100; i++) {
    const logNdtrX = logNdtr(x);
    const logPdfX = -0.5 * x * x - LOG_SQRT_2PI;
    const dx = (logNdtrX - z) * Math.exp(logNdtrX - logPdfX);
    x -= dx;
    if (Math.abs(dx) < 1e-8 * Math.abs(x)) break;
  }
  return flipped ? -x : x;
}

/** The q-quantile of the standard normal truncated to [a, b] (Optuna's _truncnorm.ppf). */
export function truncnormPpf(q: number, a: number, b: number): number {
  if (a === b) return Number.NaN;
  if (q === 0) return a;
  if (q === 1) return b;
  const logMass = logGaussMass(a, b);
  if (a < 0) return ndtriExp(logSum(logNdtr(a), Math.log(q) + logMass));
  return -ndtriExp(logSum(logNdtr(-b), Math.log1p(-q) + logMass));
}

/** log density at x of N(loc, scale²) truncated to [low, high] (Optuna's _truncnorm.logpdf). */
export function truncnormLogPdf(x: number, low: number, high: number, loc: number, scale: number): number {
  if (x < low || x > high) return -Infinity;
  const z = (x - loc) / scale;
  return -(z * z) / 2 - LOG_SQRT_2PI - logGaussMass((low - loc) / scale, (high - loc) / scale) - Math.log(scale);
}
