// One structured JSON logger for every function. Log level from LOG_LEVEL (Powertools also honours
// POWERTOOLS_LOG_LEVEL and the Lambda's own log level). What is logged never includes a credential, a token or a
// request body: ids, statuses, timings and counts.
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'partner-orders' });
