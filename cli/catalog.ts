// `partner-orders catalog search`: the API's catalog answer as a table whose first column is ready to paste into
// `order create --line-item offerId=…` or `cart create --line-item catalogItemId=…`, and what the pre-flight of a
// `--what-if` says, for a person at a terminal. Types only from the API's schemas: nothing of zod at run time.
import type { CatalogSearchResult, PreflightReport } from '../functions/shared/schemas/catalog.js';

const HEADINGS = ['CATALOG ID', 'TERM', 'BILLING CYCLES', 'QUANTITY', 'PRODUCT / SKU'];

const isSearchResult = (value: unknown): value is CatalogSearchResult =>
  typeof value === 'object' && value !== null && Array.isArray((value as CatalogSearchResult).products);

const bounds = (min?: number, max?: number) =>
  min === undefined && max === undefined ? '-' : `${min ?? 1}-${max ?? '…'}`;

/** One row per catalog id and term; columns padded to their widest cell, the last one left ragged. */
export function catalogTable(value: unknown): string | undefined {
  if (!isSearchResult(value)) return undefined;
  const rows: string[][] = [];
  for (const product of value.products) {
    for (const sku of product.skus) {
      const skuTitle = sku.title ?? sku.skuId;
      const name = `${product.title && product.title !== skuTitle ? `${product.title} / ` : ''}${skuTitle}${sku.isTrial ? ' (trial)' : ''}`;
      for (const availability of sku.availabilities) {
        const terms = availability.terms.length > 0 ? availability.terms : [{ termDuration: '-', billingCycles: [] }];
        for (const term of terms) {
          rows.push([
            availability.catalogItemId,
            term.termDuration,
            term.billingCycles.join(', ') || '-',
            bounds(sku.minimumQuantity, sku.maximumQuantity),
            name,
          ]);
        }
      }
    }
  }
  if (rows.length === 0) return '';
  const widths = HEADINGS.map((heading, i) => Math.max(heading.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(HEADINGS), ...rows.map(line)].join('\n')}\n`;
}

/** What to tell a person about a search answer, beside the table (stderr). */
export function searchNotes(value: unknown, command: { customerId: string }): string[] {
  if (!isSearchResult(value)) return [];
  if (value.products.length === 0) {
    return [`no product of the ${value.targetView} view matches '${value.search}' for this customer`];
  }
  const notes: string[] = [];
  if (value.truncated) {
    notes.push(
      `${value.matched} products matched and the first ${value.products.length} are shown: add words to narrow the search`,
    );
  }
  notes.push(
    'catalog ids change over time: buy soon after looking, e.g. ' +
      `'partner-orders order create --customer-id ${command.customerId} --line-item offerId=<CATALOG ID>,quantity=<N>,termDuration=<TERM> --billing-cycle <CYCLE>'`,
  );
  return notes;
}

/** A dry run's pre-flight, in words: each refused field, or why the catalog could not be read. */
export function preflightNotes(value: unknown): string[] {
  const report = (value as { preflight?: PreflightReport } | null)?.preflight;
  if (!report || report.verdict === 'pass') return [];
  if (report.verdict === 'refused') {
    const errors = report.lines.flatMap((line) => line.errors ?? []);
    return [
      `the catalog pre-flight would refuse this purchase (422 catalog-mismatch); nothing would be sent:`,
      ...errors.map((error) => `  ${error.path}: ${error.message}`),
    ];
  }
  const reasons = [
    ...new Set(report.lines.flatMap((line) => (line.verdict === 'unavailable' && line.reason ? [line.reason] : []))),
  ];
  return [`${report.detail}${reasons.length > 0 ? ` (${reasons.join('; ')})` : ''}`];
}

/** Whether a dry run predicts a refusal (the exit code then says so: 1). */
export const predictsRefusal = (value: unknown) =>
  (value as { preflight?: PreflightReport } | null)?.preflight?.verdict === 'refused';
