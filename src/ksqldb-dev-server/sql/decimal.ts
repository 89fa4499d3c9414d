import { NumberToken } from '../../json/exact-json.js';

export type RoundingMode = 'UNNECESSARY' | 'HALF_UP' | 'HALF_DOWN' | 'FLOOR' | 'CEILING' | 'DOWN';

const TEN = 10n;
const powers: bigint[] = [1n];

function pow10(n: number): bigint {
  while (powers.length <= n) powers.push(powers[powers.length - 1]! * TEN);
  return powers[n]!;
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

function digitCount(n: bigint): number {
  return n === 0n ? 1 : abs(n).toString().length;
}

/** Why a DECIMAL operation has no exact result; ksqlDB turns it into NULL (an expression error). */
export class DecimalArithmeticError extends Error {}

/**
 * An exact DECIMAL value, as Java's BigDecimal holds it: an unscaled integer and a scale (digits after the point).
 * ksqlDB computes DECIMAL arithmetic with BigDecimal, so the dev server does too rather than with doubles; the scale is
 * kept, so JSON output writes `3.40` for a DECIMAL(3, 2) and CAST to STRING gives `0.00`.
 */
export class Decimal {
  constructor(
    readonly unscaled: bigint,
    readonly scale: number,
  ) {}

  static readonly ZERO = new Decimal(0n, 0);

  /** Parses decimal text as `new BigDecimal(text)` does (sign, digits, point, exponent); a negative scale becomes 0. */
  static parse(text: string): Decimal {
    const match = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
    if (!match || (match[2] === '' && (match[3] ?? '') === ''))
      throw new DecimalArithmeticError(`Invalid decimal '${text}'`);
    const fraction = match[3] ?? '';
    let unscaled = BigInt(`${match[2] || '0'}${fraction}` || '0');
    if (match[1] === '-') unscaled = -unscaled;
    let scale = fraction.length - Number(match[4] ?? 0);
    if (scale < 0) {
      unscaled *= pow10(-scale);
      scale = 0;
    }
    return new Decimal(unscaled, scale);
  }

  static fromInteger(value: number | bigint): Decimal {
    return new Decimal(typeof value === 'bigint' ? value : BigInt(Math.trunc(value)), 0);
  }

  /** `BigDecimal.valueOf(double)`: the double's shortest decimal text. */
  static fromDoubleText(value: number): Decimal {
    if (!Number.isFinite(value)) throw new DecimalArithmeticError(`${value} is not a decimal number`);
    return Decimal.parse(String(value));
  }

  /** `new BigDecimal(double)`: the double's exact binary value, every digit of it. */
  static fromDoubleExact(value: number): Decimal {
    if (!Number.isFinite(value)) throw new DecimalArithmeticError(`${value} is not a decimal number`);
    if (value === 0) return Decimal.ZERO;
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, value);
    const bits = view.getBigUint64(0);
    const negative = bits >> 63n === 1n;
    const exponentBits = Number((bits >> 52n) & 0x7ffn);
    let mantissa = bits & 0xfffffffffffffn;
    let exponent: number;
    if (exponentBits === 0) exponent = -1074;
    else {
      mantissa |= 1n << 52n;
      exponent = exponentBits - 1075;
    }
    let result: Decimal;
    if (exponent >= 0) result = new Decimal(mantissa << BigInt(exponent), 0);
    // m × 2^-k = m × 5^k / 10^k
    else result = new Decimal(mantissa * 5n ** BigInt(-exponent), -exponent);
    return negative ? result.negate() : result;
  }

  /** Digits of the unscaled value, as BigDecimal.precision() counts them. */
  get precision(): number {
    return digitCount(this.unscaled);
  }

  signum(): number {
    return this.unscaled === 0n ? 0 : this.unscaled < 0n ? -1 : 1;
  }

  negate(): Decimal {
    return new Decimal(-this.unscaled, this.scale);
  }

  abs(): Decimal {
    return this.unscaled < 0n ? this.negate() : this;
  }

  /** The value with `scale` digits after the point; UNNECESSARY throws when that would drop a non-zero digit. */
  setScale(scale: number, mode: RoundingMode = 'UNNECESSARY'): Decimal {
    if (scale === this.scale) return this;
    if (scale > this.scale) return new Decimal(this.unscaled * pow10(scale - this.scale), scale);
    const divisor = pow10(this.scale - scale);
    const quotient = this.unscaled / divisor; // truncated toward zero
    const remainder = this.unscaled % divisor;
    if (remainder === 0n) return new Decimal(quotient, scale);
    const negative = this.unscaled < 0n;
    const twice = abs(remainder) * 2n;
    let awayFromZero: boolean;
    switch (mode) {
      case 'UNNECESSARY':
        throw new DecimalArithmeticError('Rounding necessary');
      case 'DOWN':
        awayFromZero = false;
        break;
      case 'HALF_UP':
        awayFromZero = twice >= divisor;
        break;
      case 'HALF_DOWN':
        awayFromZero = twice > divisor;
        break;
      case 'FLOOR':
        awayFromZero = negative;
        break;
      case 'CEILING':
        awayFromZero = !negative;
        break;
    }
    return new Decimal(awayFromZero ? quotient + (negative ? -1n : 1n) : quotient, scale);
  }

  /** Rounds to `digits` significant digits (a MathContext), half up. */
  roundToPrecision(digits: number): Decimal {
    const excess = this.precision - digits;
    if (excess <= 0) return this;
    const rounded = this.setScale(this.scale - excess, 'HALF_UP');
    // Rounding up may add a digit (999 → 1000): drop the trailing zero it leaves.
    return rounded.precision > digits ? rounded.setScale(rounded.scale - 1, 'HALF_UP') : rounded;
  }

  private aligned(other: Decimal): [bigint, bigint, number] {
    const scale = Math.max(this.scale, other.scale);
    return [this.unscaled * pow10(scale - this.scale), other.unscaled * pow10(scale - other.scale), scale];
  }

  add(other: Decimal): Decimal {
    const [a, b, scale] = this.aligned(other);
    return new Decimal(a + b, scale);
  }

  subtract(other: Decimal): Decimal {
    const [a, b, scale] = this.aligned(other);
    return new Decimal(a - b, scale);
  }

  multiply(other: Decimal): Decimal {
    return new Decimal(this.unscaled * other.unscaled, this.scale + other.scale);
  }

  /**
   * The exact quotient at `scale` digits, as ksqlDB's `divide(…, MathContext(precision, UNNECESSARY)).setScale(scale)`
   * computes it: a quotient that does not end within those digits (1/3) has no exact value and throws.
   */
  divide(other: Decimal, precision: number, scale: number): Decimal {
    if (other.unscaled === 0n) throw new DecimalArithmeticError('Division by zero');
    // this / other = (a × 10^-sa) / (b × 10^-sb); at `scale`: a × 10^(scale - sa + sb) / b.
    const shift = scale - this.scale + other.scale;
    let numerator = this.unscaled;
    let denominator = other.unscaled;
    if (shift >= 0) numerator *= pow10(shift);
    else denominator *= pow10(-shift);
    if (numerator % denominator !== 0n) throw new DecimalArithmeticError('Rounding necessary');
    const quotient = new Decimal(numerator / denominator, scale);
    if (quotient.stripTrailingZeros().precision > precision) throw new DecimalArithmeticError('Rounding necessary');
    return quotient;
  }

  /** Java's BigDecimal.remainder: the sign follows the dividend. */
  remainder(other: Decimal): Decimal {
    if (other.unscaled === 0n) throw new DecimalArithmeticError('Division by zero');
    const [a, b, scale] = this.aligned(other);
    return new Decimal(a % b, scale);
  }

  stripTrailingZeros(): Decimal {
    let unscaled = this.unscaled;
    let scale = this.scale;
    if (unscaled === 0n) return new Decimal(0n, 0);
    while (scale > 0 && unscaled % TEN === 0n) {
      unscaled /= TEN;
      scale--;
    }
    return new Decimal(unscaled, scale);
  }

  compareTo(other: Decimal): number {
    const [a, b] = this.aligned(other);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /** The integer part, as BigDecimal.longValue() truncates it. */
  toBigInt(): bigint {
    return this.unscaled / pow10(this.scale);
  }

  toNumber(): number {
    return Number(this.toString());
  }

  /** A DECIMAL taking part in DOUBLE arithmetic or a comparison with a number converts to a double. */
  valueOf(): number {
    return this.toNumber();
  }

  /** toPlainString: every digit of the scale, never an exponent. */
  toString(): string {
    if (this.scale < 0) return (this.unscaled * pow10(-this.scale)).toString();
    const digits = abs(this.unscaled).toString();
    const sign = this.unscaled < 0n ? '-' : '';
    if (this.scale === 0) return sign + digits;
    const padded = digits.padStart(this.scale + 1, '0');
    return `${sign}${padded.slice(0, -this.scale)}.${padded.slice(-this.scale)}`;
  }

  /** Written into JSON as a number with its scale (`3.40`), as ksqlDB's JSON serializer writes a BigDecimal. */
  toJSON(): NumberToken {
    return new NumberToken(this.toString());
  }
}

/** Throws unless |value| < 10^(precision - scale): ksqlDB's "Numeric field overflow". */
export function ensureMax(value: Decimal, precision: number, scale: number): void {
  const digits = precision - scale;
  if (value.abs().compareTo(new Decimal(pow10(digits), 0)) >= 0) {
    throw new DecimalArithmeticError(
      `Numeric field overflow: A field with precision ${precision} and scale ${scale} must round to an absolute value less than 10^${digits}. Got ${value.toString()}`,
    );
  }
}

/** ksqlDB's DecimalUtil.ensureFit: the value as DECIMAL(precision, scale) without rounding, or an error. */
export function ensureFit(value: Decimal, precision: number, scale: number): Decimal {
  ensureMax(value, precision, scale);
  try {
    return value.setScale(scale, 'UNNECESSARY');
  } catch {
    throw new DecimalArithmeticError(
      `Cannot fit decimal '${value.toString()}' into DECIMAL(${precision}, ${scale}) without rounding. (Requires ${value.precision},${value.scale})`,
    );
  }
}

/**
 * A numeric value as a Decimal: INTEGER and BIGINT values exactly, a DOUBLE by its shortest text (as
 * BigDecimal.valueOf does), text as `new BigDecimal(text)`.
 */
export function toDecimal(value: unknown): Decimal {
  if (value instanceof Decimal) return value;
  if (typeof value === 'bigint') return Decimal.fromInteger(value);
  if (typeof value === 'number')
    return Number.isInteger(value) ? Decimal.fromInteger(value) : Decimal.fromDoubleText(value);
  if (value instanceof NumberToken) return Decimal.parse(value.raw);
  return Decimal.parse(String(value));
}
