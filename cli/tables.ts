// Compact tables for a person at a terminal: `order status`, `order list`, `subscription list`, `customer check`.
// `--json` prints the API's whole answer instead. Types only: nothing of zod at run time.

type Row = string[];
type Loose = Record<string, unknown>;

const isObject = (value: unknown): value is Loose =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown) => (value === undefined || value === null || value === '' ? '-' : String(value));

/** Columns padded to their widest cell, the last one left ragged. */
export function table(headings: Row, rows: Row[]): string {
  const widths = headings.map((heading, i) => Math.max(heading.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: Row) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(headings), ...rows.map(line)].join('\n')}\n`;
}

const linesOf = (order: Loose) => (Array.isArray(order.lineItems) ? order.lineItems.filter(isObject) : []);

/** `order status`: the order in one line, then one row per line item with its provisioning. */
export function orderStatusTable(value: unknown): string | undefined {
  if (!isObject(value) || typeof value.id !== 'string') return undefined;
  const head = `order ${value.id}  state ${text(value.state)}  status ${text(value.status)}  billing ${text(value.billingCycle)}  created ${text(value.creationDate)}\n`;
  const rows = linesOf(value).map((line) => [
    text(line.lineItemNumber),
    text(line.offerId),
    text(line.quantity),
    text(line.termDuration),
    text(line.provisioningStatus),
    text(line.subscriptionId),
  ]);
  return head + table(['LINE', 'OFFER / CATALOG ID', 'QTY', 'TERM', 'PROVISIONING', 'SUBSCRIPTION'], rows);
}

const itemsOf = (value: unknown) =>
  isObject(value) && Array.isArray(value.items) ? value.items.filter(isObject) : undefined;

/** `order list`: one row per order. */
export function orderListTable(items: Loose[]): string {
  const rows = items.map((order) => {
    const lines = linesOf(order);
    const first = lines[0];
    const what = first
      ? `${text(first.offerId)} x${text(first.quantity)}${lines.length > 1 ? ` (+${lines.length - 1} more)` : ''}`
      : '-';
    return [text(order.id), text(order.creationDate), text(order.status), text(order.billingCycle), what];
  });
  return table(['ORDER', 'CREATED', 'STATUS', 'BILLING', 'LINES'], rows);
}

/** `subscription list`: one row per subscription. */
export function subscriptionListTable(items: Loose[]): string {
  const rows = items.map((s) => [
    text(s.id),
    text(s.status),
    text(s.quantity),
    text(s.termDuration),
    text(s.billingCycle),
    text(s.orderId),
    text(s.friendlyName ?? s.offerId),
  ]);
  return table(['SUBSCRIPTION', 'STATUS', 'QTY', 'TERM', 'BILLING', 'ORDER', 'NAME / OFFER'], rows);
}

/** The items of a list page, when the value is one. */
export const listItems = itemsOf;

/** `customer check`: one line. */
export function customerLine(value: unknown): string | undefined {
  if (!isObject(value) || typeof value.customerId !== 'string') return undefined;
  return `${value.customerId}  ${text(value.companyName)}  ${text(value.domain)}  relationship ${text(value.relationshipToPartner)}\n`;
}

/** What a real purchase will buy, for the confirmation prompt (customer, lines, term, billing). */
export function purchaseSummary(command: {
  name: string;
  customerId: string;
  orderId?: string;
  cartId?: string;
  body?: { lineItems: Record<string, unknown>[]; billingCycle?: string; checkout?: true };
}): string {
  const what =
    command.name === 'cart checkout'
      ? `check out cart ${command.cartId}`
      : command.name === 'cart create'
        ? command.body?.checkout
          ? 'create a cart and check it out'
          : 'create a cart (buys nothing until checked out)'
        : command.orderId
          ? `add add-ons to order ${command.orderId}`
          : 'create an order';
  const out = [`About to ${what} for customer ${command.customerId}:`];
  for (const line of command.body?.lineItems ?? []) {
    const id = line.offerId ?? line.catalogItemId;
    const billing =
      line.billingCycle ?? command.body?.billingCycle ?? (line.catalogItemId ? undefined : 'monthly (default)');
    out.push(
      `  ${text(id)}  quantity ${text(line.quantity)}  term ${text(line.termDuration)}  billing ${text(billing)}`,
    );
  }
  return `${out.join('\n')}\n`;
}
