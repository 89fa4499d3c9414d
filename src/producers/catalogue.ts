/** What tradespeople offer: each option has a minimum-charge range (whole dollars) and a typical length in days. */
export interface ServiceOption {
  trade: string;
  name: string;
  minCharge: readonly [number, number];
  days: readonly [number, number];
}

const TRADES: Record<string, ReadonlyArray<[name: string, minCharge: [number, number], days: [number, number]]>> = {
  Plumbing: [
    ['Blocked drain clearing', [150, 450], [1, 1]],
    ['Hot water system replacement', [1200, 3500], [1, 2]],
    ['Leaking tap repair', [90, 220], [1, 1]],
    ['Bathroom rough-in', [2500, 6000], [2, 5]],
    ['Gas fitting and appliance connection', [250, 900], [1, 2]],
  ],
  Electrical: [
    ['Power point installation', [120, 350], [1, 1]],
    ['Switchboard upgrade', [1500, 4000], [1, 3]],
    ['Ceiling fan installation', [180, 500], [1, 1]],
    ['Smoke alarm compliance check', [100, 300], [1, 1]],
    ['EV charger installation', [1200, 2800], [1, 2]],
  ],
  Roofing: [
    ['Roof leak repair', [300, 1200], [1, 2]],
    ['Gutter replacement', [1500, 4500], [2, 4]],
    ['Roof restoration', [4000, 12000], [3, 10]],
    ['Metal roof replacement', [9000, 25000], [5, 15]],
  ],
  Carpentry: [
    ['Deck construction', [4000, 15000], [3, 10]],
    ['Door hanging', [150, 450], [1, 1]],
    ['Built-in wardrobe', [2000, 6500], [2, 5]],
    ['Pergola build', [3500, 12000], [3, 8]],
  ],
  Painting: [
    ['Interior room repaint', [600, 1800], [1, 3]],
    ['Exterior house repaint', [5000, 15000], [4, 12]],
    ['Fence painting', [400, 1500], [1, 3]],
  ],
  Tiling: [
    ['Bathroom retile', [3000, 9000], [3, 7]],
    ['Kitchen splashback', [600, 1800], [1, 2]],
    ['Floor tile repair', [200, 700], [1, 1]],
  ],
  Landscaping: [
    ['Garden clean-up', [250, 900], [1, 2]],
    ['Retaining wall', [3000, 12000], [3, 10]],
    ['Turf laying', [800, 3000], [1, 3]],
    ['Irrigation system install', [1500, 5000], [2, 4]],
  ],
  'Air conditioning': [
    ['Split system installation', [1800, 4500], [1, 2]],
    ['Ducted system service', [250, 600], [1, 1]],
    ['Air conditioner regas', [180, 450], [1, 1]],
  ],
  Locksmith: [
    ['Lock change', [120, 350], [1, 1]],
    ['Emergency lock-out', [150, 400], [1, 1]],
  ],
  Fencing: [
    ['Colorbond fence install', [2500, 8000], [2, 5]],
    ['Timber fence repair', [300, 1200], [1, 2]],
  ],
};

export const SERVICE_OPTIONS: readonly ServiceOption[] = Object.entries(TRADES).flatMap(([trade, options]) =>
  options.map(([name, minCharge, days]) => ({ trade, name, minCharge, days })),
);

/** The text a customer sees and the job_status stream carries, e.g. "Plumbing - Blocked drain clearing". */
export function serviceLabel(option: ServiceOption): string {
  let label = labels.get(option);
  if (label === undefined) {
    label = `${option.trade} - ${option.name}`;
    labels.set(option, label);
  }
  return label;
}

const labels = new Map<ServiceOption, string>();
