/** Real city centres with the suburbs around them, so generated addresses and coordinates look right on a map. */
export interface City {
  name: string;
  state: string;
  lat: number;
  long: number;
  /** Radius in km that jobs are spread over around the centre. */
  radiusKm: number;
  suburbs: ReadonlyArray<readonly [suburb: string, postcode: string]>;
}

export const CITIES: readonly City[] = [
  {
    name: 'Sydney',
    state: 'NSW',
    lat: -33.8688,
    long: 151.2093,
    radiusKm: 25,
    suburbs: [
      ['Parramatta', '2150'],
      ['Chatswood', '2067'],
      ['Bondi', '2026'],
      ['Newtown', '2042'],
      ['Manly', '2095'],
      ['Penrith', '2750'],
      ['Hurstville', '2220'],
      ['Ryde', '2112'],
    ],
  },
  {
    name: 'Melbourne',
    state: 'VIC',
    lat: -37.8136,
    long: 144.9631,
    radiusKm: 25,
    suburbs: [
      ['Richmond', '3121'],
      ['Fitzroy', '3065'],
      ['St Kilda', '3182'],
      ['Brunswick', '3056'],
      ['Box Hill', '3128'],
      ['Footscray', '3011'],
      ['Frankston', '3199'],
    ],
  },
  {
    name: 'Brisbane',
    state: 'QLD',
    lat: -27.4698,
    long: 153.0251,
    radiusKm: 20,
    suburbs: [
      ['Fortitude Valley', '4006'],
      ['Paddington', '4064'],
      ['Chermside', '4032'],
      ['Indooroopilly', '4068'],
      ['Carindale', '4152'],
      ['Wynnum', '4178'],
    ],
  },
  {
    name: 'Perth',
    state: 'WA',
    lat: -31.9505,
    long: 115.8605,
    radiusKm: 20,
    suburbs: [
      ['Fremantle', '6160'],
      ['Subiaco', '6008'],
      ['Joondalup', '6027'],
      ['Scarborough', '6019'],
      ['Midland', '6056'],
      ['Cannington', '6107'],
    ],
  },
  {
    name: 'Adelaide',
    state: 'SA',
    lat: -34.9285,
    long: 138.6007,
    radiusKm: 15,
    suburbs: [
      ['Glenelg', '5045'],
      ['Norwood', '5067'],
      ['Prospect', '5082'],
      ['Unley', '5061'],
      ['Salisbury', '5108'],
    ],
  },
  {
    name: 'Canberra',
    state: 'ACT',
    lat: -35.2809,
    long: 149.13,
    radiusKm: 12,
    suburbs: [
      ['Belconnen', '2617'],
      ['Woden', '2606'],
      ['Gungahlin', '2912'],
      ['Kingston', '2604'],
    ],
  },
  {
    name: 'Hobart',
    state: 'TAS',
    lat: -42.8821,
    long: 147.3272,
    radiusKm: 10,
    suburbs: [
      ['Sandy Bay', '7005'],
      ['North Hobart', '7000'],
      ['Glenorchy', '7010'],
      ['Bellerive', '7018'],
    ],
  },
  {
    name: 'Gold Coast',
    state: 'QLD',
    lat: -28.0167,
    long: 153.4,
    radiusKm: 15,
    suburbs: [
      ['Southport', '4215'],
      ['Surfers Paradise', '4217'],
      ['Burleigh Heads', '4220'],
      ['Robina', '4226'],
    ],
  },
];

const EARTH_RADIUS_KM = 6371;

/** The point `distanceKm` away from (lat, long) along `bearingRad` (great-circle). */
export function destinationPoint(lat: number, long: number, distanceKm: number, bearingRad: number): [number, number] {
  const angular = distanceKm / EARTH_RADIUS_KM;
  const phi1 = toRad(lat);
  const lambda1 = toRad(long);
  const phi2 = Math.asin(
    Math.sin(phi1) * Math.cos(angular) + Math.cos(phi1) * Math.sin(angular) * Math.cos(bearingRad),
  );
  const lambda2 =
    lambda1 +
    Math.atan2(
      Math.sin(bearingRad) * Math.sin(angular) * Math.cos(phi1),
      Math.cos(angular) - Math.sin(phi1) * Math.sin(phi2),
    );
  return [toDeg(phi2), toDeg(lambda2)];
}

/** Haversine distance in km, the same formula ksqlDB's GEO_DISTANCE uses. */
export function distanceKm(lat1: number, long1: number, lat2: number, long2: number): number {
  const dPhi = toRad(lat2 - lat1);
  const dLambda = toRad(long2 - long1);
  const a = Math.sin(dPhi / 2) ** 2 + Math.cos(toRad(lat1)) * Math.cos(toRad(lat2)) * Math.sin(dLambda / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** Coordinates rounded to 6 decimals (~0.1 m), as GPS units commonly report them. */
export function roundCoordinate(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

function toRad(deg: number): number {
  return (deg * Math.PI) / 180;
}

function toDeg(rad: number): number {
  return (rad * 180) / Math.PI;
}
