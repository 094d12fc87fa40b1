// The purchase model every capability shares — the purchase policy, the catalog pre-flight, exactly-once, lifecycle
// tracking and the services: a validated command, what it runs with, and what it answers. It sits at the bottom of
// functions/shared and imports types only, from further down (the Partner Center client, the journal, schemas).
import type { Context } from 'aws-lambda';
import type { Journal } from '../exactly-once/records.js';
import type { DescribedRequest, PartnerCenterClient } from '../partner-center/client.js';
import type { PreflightReport } from '../schemas/catalog.js';
import type { SubscriptionOperation } from '../subscriptions/schemas.js';

export type Operation = 'createOrder' | 'addOnToOrder' | 'createCart' | 'checkoutCart';

/** A validated request, ready to run. `input` is what a repeated key must match (the fingerprint). */
export interface Command {
  /** A purchase, or a change to a subscription after it (subscriptions/: its own guards in commands.ts). */
  operation: Operation | SubscriptionOperation;
  customerId: string;
  /**
   * A change to a subscription brings its own guards (subscriptions/commands.ts), which perform() applies instead of
   * a purchase's, with its dependencies (the policy engine, the subscription settings; typed where they are used, as
   * this module sits below both): so a function that only buys does not bundle the subscription code.
   */
  guard?(options: PerformOptions, deps: { policy: { engine: unknown }; subscriptions?: unknown }): Command;
  input: unknown;
  run(ctx: ServiceContext): Promise<ServiceResult>;
  /**
   * Starts the reads its guards decide by (purchase/early.ts), before the idempotency lock is taken; `run` judges by
   * their answers. Buys nothing, and an answer `run` never asks for is dropped.
   */
  start?(ctx: ServiceContext): void;
}

export interface PerformOptions {
  /** Who is asking (caller.ts: an IAM role, a JWT subject, an event source): keys never cross callers. */
  caller: string;
  /** The groups or app roles a JWT caller's token claims (caller.ts `jwtGroups`), for the purchase policy. */
  callerGroups?: readonly string[];
  idempotencyKey?: string;
  /** Where the key is read from, for the problem when it is required and missing (`/headers/idempotency-key`). */
  idempotencyKeyPath: string;
  dryRun: boolean;
  /** The caller says a purchase of the same lines as a recent one is meant (Allow-Duplicate; duplicates/). */
  allowDuplicate?: boolean;
  correlationId: string;
  deadline: number;
  context?: Context;
}

/** A check that wraps a command (the purchase policy, the catalog pre-flight, provisioning tracking). */
export interface CommandGuard {
  guard(command: Command, options: PerformOptions): Command;
}

/**
 * How a purchase paces the checkouts it repeats within one request, and, when it has a key, its journal (without
 * one, nothing outlives the request: a retry is a new purchase).
 */
export interface ExactlyOnce {
  journal?: Journal;
  /** First pause between two checkouts of the same cart within one request (then tripled, with jitter). */
  retryDelayMs: number;
  /** Checkouts of the cart within one request (the first included). */
  maxAttempts?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ServiceContext {
  partnerCenter: Pick<PartnerCenterClient, 'send' | 'describe'>;
  correlationId: string;
  /** Epoch ms: no upstream attempt starts after it. */
  deadline: number;
  /** Validate and describe the requests, send nothing (the cmdlets' -WhatIf). */
  dryRun: boolean;
  /** A stable MS-RequestId for each step of this call, when the caller gave an idempotency key. */
  requestIdFor?: (step: string) => string;
  /** The journal that makes a keyed purchase one cart, checked out until Partner Center answers (exactly-once/). */
  exactlyOnce?: ExactlyOnce;
  /** Where the purchase's payload is in the request (`/body`, `/detail`, ``), for problems that name a field. */
  payloadPath?: string;
  /**
   * Takes a write made once the purchase was answered (the journal's `settled`, the duplicate record, the start of
   * provisioning tracking), which never throws: it then runs beside the stored outcome's own write instead of before
   * it, and `perform` waits for it before it answers. Without it, the caller awaits the write itself.
   */
  afterAnswer?: (write: Promise<void>) => void;
}

/** Hands a write made after the answer to `ctx.afterAnswer`, or waits for it when nobody takes it. */
export async function afterAnswer(ctx: ServiceContext, write: Promise<void>): Promise<void> {
  if (ctx.afterAnswer) ctx.afterAnswer(write);
  else await write;
}

/** A purchase payload's place in the request: its key's place, except on HTTP, where the key is a header. */
export const payloadPrefix = (idempotencyKeyPath: string) =>
  idempotencyKeyPath.startsWith('/headers/')
    ? '/body'
    : idempotencyKeyPath.slice(0, idempotencyKeyPath.lastIndexOf('/'));

/** The outcome an entry point returns: the HTTP status and JSON body of the route. */
export interface ServiceResult {
  status: number;
  body: unknown;
  /** Answered by checking out again a cart whose earlier checkout's answer was lost. */
  reconciled?: boolean;
}

/** The purchase policy's actions (policies/schema.cedarschema). */
export type PolicyAction = 'CreateOrder' | 'AddOn' | 'CreateCart' | 'CheckoutCart';

/** What a dry run shows beside the requests it would send: the purchase policy's verdict. */
export interface Authorization {
  decision: 'allow';
  principal: string;
  actions: PolicyAction[];
  /** The permits that allowed it (each line's, once). */
  policies: string[];
}

export interface DryRunResult {
  dryRun: true;
  requests: DescribedRequest[];
  /**
   * With an idempotency key: what the real request would do now (commands.ts). `resume`: an earlier attempt with
   * this key may have placed the purchase, and the real request checks out the same cart again.
   */
  idempotency?: 'new' | 'replay' | 'mismatch' | 'in-progress' | 'resume';
  /** For a replay: the status of the stored answer. */
  storedStatus?: number;
  /** The catalog pre-flight's verdict on every line, and the catalog facts it used (catalog/preflight.ts). */
  preflight?: PreflightReport;
  /** The purchase policy's verdict and the permits behind it (policy/check.ts); a refused dry run is the 403. */
  authorization?: Authorization;
}
