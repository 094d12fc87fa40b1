// Quotes: what a dry run previewed, so that a purchase can be held to it. A quote belongs to the principal that made
// it, is for one kind of purchase and one request (its SHA-256 over the canonical request), and may be placed for
// QUOTE_TTL_MS; once placed it stays placeable, because its retries must replay (the purchase's key derives from it).
// Where quotes live is the transport's choice: the stdio server keeps them in its process (memoryQuotes), the Lambda
// on the idempotency table, where every invocation sees them (dynamodb-quotes.ts).
import { createHash } from 'node:crypto';

/** How long a quote may be placed after it was made. */
export const QUOTE_TTL_MS = 10 * 60_000;

/** The idempotency key of the purchase a quote stands for. */
export const keyForQuote = (quoteId: string) => `mcp-${quoteId}`;

export type QuoteKind = 'order' | 'cart' | 'subscription-change';

export interface Quote {
  id: string;
  /** Who made it (caller.ts's name); only they may place it. */
  principal: string;
  kind: QuoteKind;
  /** SHA-256 of the canonical request (requestHash). */
  hash: string;
  /** Epoch ms after which an unplaced quote may not be placed. */
  expiresAt: number;
  /** Set once the purchase was sent: from then on the quote is only ever retried, and does not expire. */
  placed?: boolean;
}

export interface QuoteStore {
  save(quote: Quote): Promise<void>;
  get(id: string): Promise<Quote | undefined>;
  /** Before the purchase is sent: the quote no longer expires. */
  markPlaced(id: string): Promise<void>;
}

/** Object keys sorted at every depth: two requests equal in meaning hash alike whatever order the model wrote. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

export const requestHash = (value: unknown) =>
  createHash('sha256')
    .update(JSON.stringify(canonical(value)) ?? 'undefined')
    .digest('hex');

/** Why `quote` may not place this request for `principal` now, or undefined when it may. */
export function whyNot(
  quote: Quote | undefined,
  expected: { id: string; principal: string; kind: QuoteKind; hash: string; now: number },
  quoteTool: string,
): string | undefined {
  if (!quote || quote.kind !== expected.kind || quote.principal !== expected.principal) {
    return `no quote ${expected.id} for this ${expected.kind} by you: call ${quoteTool} first`;
  }
  if (quote.hash !== expected.hash) {
    return `the request differs from what quote ${expected.id} previewed: call ${quoteTool} with this request and show the user the new quote`;
  }
  if (!quote.placed && expected.now > quote.expiresAt) {
    return `quote ${expected.id} is older than ${QUOTE_TTL_MS / 60_000} minutes: quote again`;
  }
  return undefined;
}

/** Quotes in this process's memory: the stdio server's (a restarted server forgets them; nothing was placed yet). */
export function memoryQuotes(): QuoteStore {
  const quotes = new Map<string, Quote>();
  return {
    save: async (quote) => {
      quotes.set(quote.id, { ...quote });
    },
    get: async (id) => {
      const found = quotes.get(id);
      return found && { ...found };
    },
    markPlaced: async (id) => {
      const found = quotes.get(id);
      if (found) found.placed = true;
    },
  };
}
