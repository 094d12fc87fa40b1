// Scheduled (EventBridge, every 15 minutes by default): the reconciler of purchases whose outcome is unknown
// (lifecycle/reconciler.ts). Never buys. Metrics (EMF, namespace partner-orders): PurchasesNeedingAttention (alarmed),
// PurchasesReconciled and PurchasesNotPlaced.
import { randomUUID } from 'node:crypto';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { eventBridgeLifecyclePublisher } from '../shared/lifecycle/events.js';
import {
  type ReconcileReport,
  type ReconcilerDependencies,
  reconcileUnknownPurchases,
} from '../shared/lifecycle/reconciler.js';
import { provisioningTracking, sqsTrackingQueue } from '../shared/lifecycle/tracking.js';
import { lifecycleWiring } from '../shared/lifecycle/wiring.js';
import { injectLambdaContext } from '../shared/log.js';

export const METRICS_NAMESPACE = 'partner-orders';
/** Time kept back from the invocation to record the last result and flush the metrics. */
const MARGIN_MS = 10_000;

export const createHandler = (
  deps: ReconcilerDependencies,
  metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'reconcile-purchases' }),
) =>
  middy<unknown, ReconcileReport, Error, Context>()
    .use(injectLambdaContext())
    .use(logMetrics(metrics, { throwOnEmptyMetrics: false }))
    .handler(async (_event, context) => {
      const report = await reconcileUnknownPurchases(deps, {
        correlationId: randomUUID(),
        deadline: Date.now() + context.getRemainingTimeInMillis() - MARGIN_MS,
      });
      metrics.addMetric('PurchasesNeedingAttention', MetricUnit.Count, report.needsAttention);
      metrics.addMetric('PurchasesReconciled', MetricUnit.Count, report.reconciled);
      metrics.addMetric('PurchasesNotPlaced', MetricUnit.Count, report.notPlaced);
      return report;
    });

const wiring = lifecycleWiring();
const { lifecycle, table } = wiring;
export const handler = table
  ? createHandler({
      partnerCenter: wiring.partnerCenter,
      journals: table.journals,
      idempotency: table.idempotency,
      publish: eventBridgeLifecyclePublisher(lifecycle.eventBusName),
      budget: table.budget,
      ...(lifecycle.trackingQueueUrl
        ? {
            tracking: provisioningTracking(sqsTrackingQueue(lifecycle.trackingQueueUrl), {
              delays: lifecycle.pollDelaysSeconds,
            }),
          }
        : {}),
      reconcileAfterMs: lifecycle.reconcileAfterMs,
      batch: lifecycle.reconcileBatch,
    })
  : async () => {
      throw new Error('reconcile-purchases needs IDEMPOTENCY_TABLE_NAME: the journals are in the idempotency table');
    };
