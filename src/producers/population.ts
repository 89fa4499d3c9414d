import { CITIES, destinationPoint, roundCoordinate } from './places.js';
import { Random } from './random.js';
import { SERVICE_OPTIONS } from './catalogue.js';

/** Words drawn once from faker (seeded); records then combine them with the fast PRNG. */
export interface WordPools {
  firstNames: readonly string[];
  lastNames: readonly string[];
  streets: readonly string[];
}

const POOL_SIZE = 400;
const EMAIL_DOMAINS = [
  'gmail.com',
  'outlook.com',
  'bigpond.com',
  'hotmail.com',
  'icloud.com',
  'yahoo.com.au',
  'optusnet.com.au',
];

export async function buildWordPools(seed: number): Promise<WordPools> {
  const { faker } = await import('@faker-js/faker/locale/en_AU');
  faker.seed(seed);
  const unique = (make: () => string) => {
    const words = new Set<string>();
    for (let i = 0; i < POOL_SIZE * 4 && words.size < POOL_SIZE; i++) words.add(make());
    return [...words];
  };
  return {
    firstNames: unique(() => faker.person.firstName()),
    lastNames: unique(() => faker.person.lastName()),
    streets: unique(() => faker.location.street()),
  };
}

export interface Customer {
  id: string;
  name: string;
  email: string;
  address: string;
  lat: number;
  long: number;
}

/**
 * A city-sized population of customers. Customer n is a pure function of (seed, n), so customers can be made
 * lazily in any order and the same seed always yields the same people.
 */
export class Population {
  readonly size: number;
  private readonly cache: Array<Customer | undefined>;
  /** The e-mail form of each pool name, worked out once: normalising per customer costs more than the rest. */
  private readonly emailFirstNames: string[];
  private readonly emailLastNames: string[];

  constructor(
    private readonly seed: number,
    private readonly pools: WordPools,
    size = 20_000,
  ) {
    this.size = size;
    this.cache = new Array<Customer | undefined>(size);
    this.emailFirstNames = pools.firstNames.map(asciiLower);
    this.emailLastNames = pools.lastNames.map(asciiLower);
  }

  /** Some customers come back for more work: a skewed pick favours the lower-numbered ones. */
  pickCustomerNumber(random: Random): number {
    const u = random.next();
    return Math.floor(u * u * this.size);
  }

  pickCustomer(random: Random): Customer {
    return this.customer(this.pickCustomerNumber(random));
  }

  customer(n: number): Customer {
    const cached = this.cache[n];
    if (cached) return cached;
    const random = new Random((this.seed ^ Math.imul(n + 1, 0x2c1b3c6d)) >>> 0);
    const firstIndex = random.index(this.pools.firstNames.length);
    const lastIndex = random.index(this.pools.lastNames.length);
    const first = this.pools.firstNames[firstIndex]!;
    const last = this.pools.lastNames[lastIndex]!;
    const city = random.pick(CITIES);
    const [suburb, postcode] = random.pick(city.suburbs);
    // sqrt keeps points uniform over the disc instead of crowding the centre
    const [lat, long] = destinationPoint(
      city.lat,
      city.long,
      city.radiusKm * Math.sqrt(random.next()),
      random.real(0, 2 * Math.PI),
    );
    const separator = random.pick(['.', '_', '']);
    const digits = random.chance(0.5) ? String(random.int(1, 99)) : '';
    const customer: Customer = {
      id: `CUST-${String(n + 1).padStart(6, '0')}`,
      name: `${first} ${last}`,
      email: `${this.emailFirstNames[firstIndex]}${separator}${this.emailLastNames[lastIndex]}${digits}@${random.pick(EMAIL_DOMAINS)}`,
      address: `${random.int(1, 240)} ${random.pick(this.pools.streets)}, ${suburb} ${city.state} ${postcode}`,
      lat: roundCoordinate(lat),
      long: roundCoordinate(long),
    };
    // Every customer is kept once made (a few MB for the whole population): orders waiting for their time then
    // hold only a customer number, and each record reuses the customer's strings.
    this.cache[n] = customer;
    return customer;
  }
}

const CONTRACTORS_PER_TRADE = 40;
const TRADE_NAMES = [...new Set(SERVICE_OPTIONS.map((o) => o.trade))];
const TRADE_CODES = new Map(
  TRADE_NAMES.map((trade) => [
    trade,
    trade
      .replace(/[^A-Za-z]/g, '')
      .slice(0, 3)
      .toUpperCase(),
  ]),
);

/** Contractor ids are grouped by trade, e.g. PLU-0007 is a plumber. */
export function pickContractor(trade: string, random: Random): string {
  return contractorId(trade, pickContractorNumber(random));
}

/** A contractor's number within its trade, 1 … CONTRACTORS_PER_TRADE. */
export function pickContractorNumber(random: Random): number {
  return random.int(1, CONTRACTORS_PER_TRADE);
}

export function contractorId(trade: string, number: number): string {
  const code =
    TRADE_CODES.get(trade) ??
    trade
      .replace(/[^A-Za-z]/g, '')
      .slice(0, 3)
      .toUpperCase();
  const index = TRADE_NAMES.indexOf(trade) * CONTRACTORS_PER_TRADE + number;
  return `${code}-${String(index).padStart(4, '0')}`;
}

function asciiLower(word: string): string {
  return word
    .normalize('NFKD')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
}
