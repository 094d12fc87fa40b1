// `--line-item key=value,key=value` and `--line-items-json` → the API's lineItems. The shapes are the API's own
// request types (type-only imports: nothing of zod is loaded at run time), so a field renamed in the schemas breaks
// this file's compile instead of producing bodies the API refuses.
//
// Only the syntax is checked here (keys, `=`, integers); values are judged by the API, the one place that knows the
// rules, and its 400 names the field. Nothing is ever dropped: an unknown or repeated key is a usage error.
import type * as z from 'zod/mini';
import type { CartLineItemInput } from '../functions/shared/schemas/carts.js';
import type { OrderLineItemInput } from '../functions/shared/schemas/orders.js';
import { suggestName } from '../functions/shared/suggest.js';
import { UsageError } from './usage-error.js';

export type OrderLine = z.input<typeof OrderLineItemInput>;
export type CartLine = z.input<typeof CartLineItemInput>;
export type LineKind = 'order' | 'cart';

/** How a value goes into the line: as text, as an integer, or into a nested shape. */
type Shape = 'text' | 'integer' | 'term' | 'map' | 'participants';

interface AnyField {
  /** The line's property this key sets. */
  property: string;
  shape: Shape;
  /** How the key is written when it differs from the property (`participant.<type>` fills `participants`). */
  key?: string;
}

/** Properties are checked against the API's line type: a renamed schema field is a compile error here. */
interface Field<Line> extends AnyField {
  property: keyof Line & string;
}

/** `map` and `participants` keys carry a sub-key after a dot: `provisioningContext.domain=…`, `participant.<type>=…`. */
const hasSubKey = (field: AnyField) => field.shape === 'map' || field.shape === 'participants';
const keyOf = (field: AnyField) => field.key ?? field.property;

const ORDER_FIELDS: Field<OrderLine>[] = [
  { property: 'offerId', shape: 'text' },
  { property: 'quantity', shape: 'integer' },
  { property: 'lineItemNumber', shape: 'integer' },
  { property: 'friendlyName', shape: 'text' },
  { property: 'termDuration', shape: 'text' },
  { property: 'partnerIdOnRecord', shape: 'text' },
  { property: 'parentSubscriptionId', shape: 'text' },
  { property: 'provisioningContext', shape: 'map' },
];

const CART_FIELDS: Field<CartLine>[] = [
  { property: 'catalogItemId', shape: 'text' },
  { property: 'quantity', shape: 'integer' },
  { property: 'billingCycle', shape: 'text' },
  { property: 'id', shape: 'integer' },
  { property: 'friendlyName', shape: 'text' },
  { property: 'termDuration', shape: 'text' },
  // The cmdlet cannot set the renewal term; `renewsTo=P1Y` is the API's `{ renewsTo: { termDuration: 'P1Y' } }`.
  { property: 'renewsTo', shape: 'term' },
  { property: 'provisioningContext', shape: 'map' },
  { property: 'participants', shape: 'participants', key: 'participant' },
];

const fieldsOf = (kind: LineKind): AnyField[] => (kind === 'order' ? ORDER_FIELDS : CART_FIELDS);

/** The keys a `--line-item` of this kind takes, as help and errors spell them. */
export const lineItemKeys = (kind: LineKind) =>
  fieldsOf(kind).map((field) => (hasSubKey(field) ? `${keyOf(field)}.<key>` : keyOf(field)));

/** One `--line-item` value. Throws UsageError naming the offending entry. */
export function parseLineItem(kind: 'order', text: string): Partial<OrderLine>;
export function parseLineItem(kind: 'cart', text: string): Partial<CartLine>;
export function parseLineItem(kind: LineKind, text: string): Record<string, unknown>;
export function parseLineItem(kind: LineKind, text: string): Record<string, unknown> {
  const fields = fieldsOf(kind);
  const line: Record<string, unknown> = {};
  const seen = new Set<string>();
  if (text.trim() === '') throw new UsageError(`--line-item '' is empty: give key=value pairs`);
  const bad = (message: string) => new UsageError(`--line-item '${text}': ${message}`);
  for (const entry of text.split(',')) {
    if (entry.trim() === '') throw bad('empty entry (values cannot contain commas: use --line-items-json)');
    const equals = entry.indexOf('=');
    if (equals < 0) throw bad(`'${entry}' is not key=value`);
    const key = entry.slice(0, equals).trim();
    const value = entry.slice(equals + 1);
    const dot = key.indexOf('.');
    const head = (dot < 0 ? key : key.slice(0, dot)).toLowerCase();
    const field = fields.find((f) => keyOf(f).toLowerCase() === head && hasSubKey(f) === dot >= 0);
    if (!field) {
      const known = fields.filter((f) => hasSubKey(f) === dot >= 0).map(keyOf);
      const guess =
        kind === 'cart' && head === 'offerid' ? 'catalogItemId' : suggestName(dot < 0 ? key : key.slice(0, dot), known);
      const hint = guess ? ` (did you mean ${guess}?)` : '';
      throw bad(`unknown key '${key}' in '${entry}'${hint} (${kind} line keys: ${lineItemKeys(kind).join(', ')})`);
    }
    const sub = dot < 0 ? '' : key.slice(dot + 1);
    if (hasSubKey(field) && sub === '') throw bad(`'${entry}' needs a key after '${keyOf(field)}.'`);
    // Each key once, so that nothing is overwritten unseen; participants are a list and may repeat.
    const id = `${keyOf(field)}.${sub}`;
    if (field.shape !== 'participants' && seen.has(id)) throw bad(`'${key}' is given twice`);
    seen.add(id);
    const { property } = field;
    switch (field.shape) {
      case 'text':
        line[property] = value;
        break;
      case 'integer':
        if (!/^-?\d{1,15}$/.test(value)) throw bad(`'${entry}': '${value}' is not an integer`);
        line[property] = Number(value);
        break;
      case 'term':
        line[property] = { termDuration: value };
        break;
      case 'map':
        line[property] = { ...(line[property] as Record<string, string> | undefined), [sub]: value };
        break;
      case 'participants':
        line[property] = [...((line[property] as unknown[] | undefined) ?? []), { key: sub, value }];
        break;
    }
  }
  return line;
}

/** `--line-items-json '<array>'`: the lineItems array as the API takes it, for values `--line-item` cannot hold. */
export function parseLineItemsJson(text: string): Record<string, unknown>[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--line-items-json is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value)) throw new UsageError('--line-items-json must be a JSON array of line items');
  value.forEach((item, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new UsageError(`--line-items-json: item ${index} is not an object`);
    }
  });
  return value as Record<string, unknown>[];
}
