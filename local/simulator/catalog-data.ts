// The simulator's catalog: a handful of new-commerce (OnlineServices) products, as every test customer sees them.
// Titles are real product names and ids have the shape of real ones, but the pairs are illustrative: copy catalog ids
// from `partner-orders catalog search` against the real Partner Center, never from here.
//
// What it has, for the pre-flight's checks: monthly (P1M), annual (P1Y) and triennial (P3Y) terms, each term with the
// billing cycles it is sold with; a trial SKU (billed `none`); an add-on; quantity bounds (one SKU from 5 seats); and
// one availability that has been retired (isPurchasable: false) beside the one that replaced it.

export interface SimulatorAvailability {
  id: string;
  isPurchasable: boolean;
  /** [duration, billing cycle]: a term sold with two billing cycles is listed twice, as Partner Center lists it. */
  terms: [string, string][];
}

export interface SimulatorSku {
  id: string;
  title: string;
  description: string;
  minimumQuantity: number;
  maximumQuantity: number;
  isTrial: boolean;
  supportedBillingCycles: string[];
  isAddon?: boolean;
  availabilities: SimulatorAvailability[];
}

export interface SimulatorProduct {
  id: string;
  title: string;
  description: string;
  skus: SimulatorSku[];
}

const MONTHLY_OR_ANNUAL: [string, string][] = [
  ['P1M', 'monthly'],
  ['P1Y', 'monthly'],
  ['P1Y', 'annual'],
];
const WITH_TRIENNIAL: [string, string][] = [
  ...MONTHLY_OR_ANNUAL,
  ['P3Y', 'monthly'],
  ['P3Y', 'annual'],
  ['P3Y', 'triennial'],
];

const sku = (
  id: string,
  title: string,
  bounds: [number, number],
  availabilities: SimulatorAvailability[],
  extra: Partial<SimulatorSku> = {},
): SimulatorSku => ({
  id,
  title,
  description: `${title} (simulated)`,
  minimumQuantity: bounds[0],
  maximumQuantity: bounds[1],
  isTrial: false,
  supportedBillingCycles: [...new Set(availabilities.flatMap((a) => a.terms.map(([, cycle]) => cycle)))],
  availabilities,
  ...extra,
});

const available = (id: string, terms: [string, string][]): SimulatorAvailability => ({
  id,
  isPurchasable: true,
  terms,
});

export const SIMULATOR_CATALOG: readonly SimulatorProduct[] = [
  {
    id: 'CFQ7TTC0LH18',
    title: 'Microsoft 365 Business Basic',
    description: 'Web and mobile Office apps, email, file storage and Teams for businesses of up to 300 users.',
    skus: [
      sku(
        '0001',
        'Microsoft 365 Business Basic',
        [1, 300],
        [
          available('CFQ7TTC0K59S', MONTHLY_OR_ANNUAL),
          // Retired: its catalog id was reissued as CFQ7TTC0K59S.
          { id: 'CFQ7TTC0K59R', isPurchasable: false, terms: MONTHLY_OR_ANNUAL },
        ],
      ),
    ],
  },
  {
    id: 'CFQ7TTC0LH0Z',
    title: 'Microsoft 365 Business Premium',
    description: 'Business Standard plus advanced security and device management, for up to 300 users.',
    skus: [sku('0001', 'Microsoft 365 Business Premium', [1, 300], [available('CFQ7TTC0K18P', MONTHLY_OR_ANNUAL)])],
  },
  {
    id: 'CFQ7TTC0LDPB',
    title: 'Microsoft 365 Audio Conferencing',
    description: 'Add-on: dial-in and dial-out for Teams meetings. Bought for an existing subscription.',
    skus: [
      sku('0001', 'Microsoft 365 Audio Conferencing', [1, 300], [available('CFQ7TTC0K5DJ', MONTHLY_OR_ANNUAL)], {
        isAddon: true,
      }),
    ],
  },
  {
    id: 'CFQ7TTC0LFLZ',
    title: 'Microsoft 365 E3',
    description: 'Office apps, Windows Enterprise, Intune and information protection for enterprises.',
    skus: [
      sku('0001', 'Microsoft 365 E3', [1, 5000], [available('CFQ7TTC0K4RX', WITH_TRIENNIAL)]),
      sku('0002', 'Microsoft 365 E3 Trial', [1, 25], [available('CFQ7TTC0K4S0', [['P1M', 'none']])], {
        isTrial: true,
      }),
    ],
  },
  {
    id: 'CFQ7TTC0LHSV',
    title: 'Microsoft 365 E3 (no Teams)',
    description: 'Microsoft 365 E3 without Microsoft Teams.',
    skus: [sku('0001', 'Microsoft 365 E3 (no Teams)', [1, 5000], [available('CFQ7TTC0K9ZT', WITH_TRIENNIAL)])],
  },
  {
    id: 'CFQ7TTC0LFLS',
    title: 'Microsoft 365 E5',
    description: 'Microsoft 365 E3 plus advanced security, compliance, voice and analytics.',
    skus: [sku('0002', 'Microsoft 365 E5', [1, 5000], [available('CFQ7TTC0KDLJ', WITH_TRIENNIAL)])],
  },
  {
    id: 'CFQ7TTC0LGZT',
    title: 'Dynamics 365 Sales Enterprise',
    description: 'Sales force automation. Sold here from 5 seats, to exercise a minimumQuantity above 1.',
    skus: [sku('0001', 'Dynamics 365 Sales Enterprise', [5, 10000], [available('CFQ7TTC0K7QW', MONTHLY_OR_ANNUAL)])],
  },
  {
    id: 'CFQ7TTC0LH16',
    title: 'Exchange Online (Plan 1)',
    description: 'Business email with a 50 GB mailbox.',
    skus: [sku('0001', 'Exchange Online (Plan 1)', [1, 10000], [available('CFQ7TTC0K6B1', MONTHLY_OR_ANNUAL)])],
  },
];

/** The view every product above is listed in; other views are empty here. */
export const SIMULATOR_CATALOG_VIEW = 'OnlineServices';
