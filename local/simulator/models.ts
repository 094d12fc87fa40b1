// Wire shapes of the Partner Center resources the simulator serves. Kept local on
// purpose: the simulator must not share types with the code it is testing, or a
// modelling mistake in the app would be mirrored here and go unnoticed.
import type { FaultKind } from './faults.js';

export const PARTNER_CENTER_RESOURCE = 'https://api.partnercenter.microsoft.com';

export type BillingCycle = 'monthly' | 'annual' | 'triennial' | 'biennial' | 'none' | 'one_time' | 'unknown';
export type OrderStatus = 'pending' | 'completed' | 'cancelled';
export type CartStatus = 'Active' | 'Ordered';

export interface Link {
  uri: string;
  method: string;
  headers: unknown[];
}

export interface OrderLineItemLinks {
  subscription?: Link;
  provisioningStatus?: Link;
  product?: Link;
  sku?: Link;
  availability?: Link;
}

export interface OrderLineItem {
  lineItemNumber: number;
  offerId: string;
  subscriptionId: string;
  parentSubscriptionId?: string;
  friendlyName?: string;
  quantity: number;
  termDuration?: string;
  transactionType: string;
  partnerIdOnRecord?: string;
  provisioningContext?: Record<string, string>;
  renewsTo?: { termDuration: string };
  links: OrderLineItemLinks;
}

export interface Order {
  id: string;
  alternateId: string;
  referenceCustomerId: string;
  billingCycle: BillingCycle;
  lineItems: OrderLineItem[];
  currencyCode: string;
  currencySymbol: string;
  creationDate: string;
  status: OrderStatus;
  transactionType: 'UserPurchase';
  partnerOnRecordAttestationAccepted?: boolean;
  links: { self: Link; provisioningStatus: Link; patchOperation: Link };
  attributes: { objectType: 'Order' };
}

export interface CartLineItem {
  id: number;
  catalogItemId: string;
  friendlyName?: string;
  quantity: number;
  currencyCode: string;
  billingCycle: BillingCycle;
  termDuration?: string;
  participants?: Array<{ key: string; value: string }>;
  provisioningContext?: Record<string, string>;
  orderGroup: string;
  addonItems?: CartAddonItem[];
  renewsTo?: { termDuration: string };
  promotionId?: string;
  /** Set by the service when the line is invalid (catalog.ts). */
  error?: { errorCode: number; errorDescription: string };
}

export interface CartAddonItem {
  catalogItemId: string;
  quantity: number;
  billingCycle: BillingCycle;
  termDuration?: string;
  friendlyName?: string;
}

export interface Cart {
  id: string;
  creationTimestamp: string;
  lastModifiedTimestamp: string;
  expirationTimestamp: string;
  lastModifiedUser: string;
  lineItems: CartLineItem[];
  status: CartStatus;
  partnerOnRecordAttestationAccepted?: boolean;
  links: { self: Link };
  attributes: { objectType: 'Cart' };
}

export interface OrderError {
  orderGroupId: string;
  code: number;
  description: string;
}

export interface CartCheckoutResult {
  orders: Order[];
  orderErrors: OrderError[];
}

export interface ResourceCollection<T> {
  totalCount: number;
  items: T[];
  links: { self: Link };
  attributes: { objectType: 'Collection' };
}

export interface PartnerCenterError {
  code: number | string;
  description: string;
  data: unknown[];
  source: 'PartnerFD';
}

export interface RecordedRequest {
  method: string;
  /** Path including the query string, exactly as received. */
  path: string;
  /** Lower-case header names; repeated headers are joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** Arrival time according to the simulator clock (ms). */
  at: number;
  /** The injected fault applied to this request, if any (for reports of what a fault run did). */
  fault?: FaultKind;
  /** Refused by the throttle (429), not processed. */
  throttled?: boolean;
}

export function link(uri: string, method = 'GET'): Link {
  return { uri, method, headers: [] };
}
