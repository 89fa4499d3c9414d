/**
 * Decimal rounding done on the shortest decimal text of a double, the way Java's BigDecimal.valueOf(double) sees it,
 * so that ROUND(1.005, 2) is 1.01 as in ksqlDB and not 1.00 as binary rounding would give.
 */
export function roundToScale(value: number, scale: number, mode: 'halfUp' | 'halfCeiling'): number {
  if (!Number.isFinite(value)) return value;
  const negative = value < 0;
  const [digits, exponent] = decimalDigits(Math.abs(value));
  // value = 0.digits × 10^exponent; keep `exponent + scale` digits.
  const keep = exponent + scale;
  if (keep >= digits.length) return value;
  if (keep < 0) return negative ? -0 : 0;
  const kept = digits.slice(0, keep);
  const firstDropped = digits.charCodeAt(keep) - 48;
  const restNonZero = /[1-9]/.test(digits.slice(keep + 1));
  let roundUp: boolean;
  if (firstDropped > 5 || (firstDropped === 5 && restNonZero)) roundUp = true;
  else if (firstDropped < 5) roundUp = false;
  else roundUp = mode === 'halfUp' ? true : !negative; // exact tie: halfCeiling rounds toward +∞
  let magnitude = kept.length === 0 ? 0n : BigInt(kept);
  if (roundUp) magnitude += 1n;
  const text = `${magnitude}e${exponent - keep}`;
  const result = Number(text);
  return negative ? -result : result;
}

/** Significant digits and decimal exponent of a positive double's shortest representation. */
function decimalDigits(value: number): [string, number] {
  if (value === 0) return ['0', 1];
  const [mantissa = '', expText] = value.toExponential().split('e');
  const digits = mantissa.replace('.', '');
  return [digits, Number(expText) + 1];
}

/** Java's Double.toString, which CAST(... AS STRING) uses: always a decimal point, E notation outside [1e-3, 1e7). */
export function javaDoubleToString(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(value);
  if (abs >= 1e-3 && abs < 1e7) {
    const text = String(value);
    return text.includes('.') ? text : `${text}.0`;
  }
  const [mantissa = '', exponent = ''] = value.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${exponent.replace('+', '')}`;
}

export function toInt32(value: number): number {
  return value | 0;
}

/** Java long arithmetic within the range a double holds exactly. */
export function toInt64(value: number): number {
  return Math.trunc(value);
}

/**
 * BIGINT values are JS numbers while exact as one and bigint beyond ±(2^53−1), as ksqlDB keeps 64-bit longs exact.
 * These helpers keep that representation through arithmetic, comparison and aggregation.
 */
export function exactLong(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** Integer arithmetic on longs: exact for operands or results beyond 2^53, wrapping at 64 bits like Java. */
export function longOp(op: (a: bigint, b: bigint) => bigint, fast: (a: number, b: number) => number) {
  return (l: number | bigint, r: number | bigint): number | bigint => {
    if (typeof l === 'number' && typeof r === 'number') {
      const result = fast(l, r);
      if (Number.isSafeInteger(result)) return result;
    }
    return exactLong(BigInt.asIntN(64, op(BigInt(l), BigInt(r))));
  };
}

/** Equality across the two representations (a long on one side, a double on the other). */
export function sameValue(l: unknown, r: unknown): boolean {
  if (l === r) return true;
  if (typeof l === 'bigint' && typeof r === 'number') return Number.isInteger(r) && l === BigInt(r);
  if (typeof r === 'bigint' && typeof l === 'number') return Number.isInteger(l) && r === BigInt(l);
  return false;
}
