/** The price table (chain/pricing.ts), parsed once at boot. */
export const PRICES = Symbol('PRICES');
