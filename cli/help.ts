// Every help text the CLI prints. Kept as plain text in one file so that what `--help` says can be read (and
// reviewed) in one place, next to the PowerShell names people arrive with.

export type CommandName =
  | 'order create'
  | 'order status'
  | 'order wait'
  | 'cart create'
  | 'cart checkout'
  | 'purchase show'
  | 'credentials check'
  | 'catalog search'
  | 'subscription show'
  | 'subscription cancel'
  | 'subscription reduce'
  | 'subscription auto-renew'
  | 'subscription schedule'
  | 'customer check'
  | 'order list'
  | 'subscription list';

const EXAMPLE_CUSTOMER = '4a8c3e2d-1b6f-4c7e-9d2a-5f0e1b3c7a90';

const ENDPOINT = `  --endpoint URL          API root. Default: $PARTNER_ORDERS_ENDPOINT, else http://127.0.0.1:3000 (npm start)`;
const IDEMPOTENCY_KEY = `  --idempotency-key KEY   Sent as Idempotency-Key (1-255 printable ASCII characters). Running the same command
                          again with the same key replays the first answer instead of buying twice: use one
                          whenever you might retry (timeouts, exit codes 3 and 4)`;
const CORRELATION_ID = `  --correlation-id GUID   Sent as MS-CorrelationId, to find this call in the API's and Partner Center's logs`;
const CONFIRM = `  --yes                   Do not ask: a real purchase on a terminal shows what will be bought (customer,
                          lines, term, billing) and asks to confirm, as the cmdlets' -Confirm. Not asked when
                          stdin is not a terminal (scripts, CI) or with --what-if
  --allow-duplicate       Buy even though the same lines were bought for the customer under another key in
                          the last DUPLICATE_WINDOW_HOURS (24): sent as Allow-Duplicate: true. Without it the
                          API refuses such a purchase (409 possible-duplicate, naming the earlier key)`;
const WHAT_IF = `  --what-if               Validate and print the requests that would be sent to Partner Center, and the catalog
                          pre-flight's verdict on each line; send nothing (?dryRun=true; unlike the cmdlets'
                          -WhatIf, nothing is bought). Exit code 1 when the pre-flight predicts a refusal`;
const SIGNING = `  --sign, --no-sign       SigV4-sign the request for execute-api, or not. Default: signed when the host ends in
                          .amazonaws.com; local endpoints are not signed. AWS credentials come from the SDK's
                          default chain (AWS_ACCESS_KEY_ID..., AWS_PROFILE, SSO, instance/container roles)
  --region REGION         Region to sign for. Default: from *.execute-api.<region>.amazonaws.com, else
                          $AWS_REGION or $AWS_DEFAULT_REGION
  -h, --help              This help`;

/** The options every purchase command takes (order create, cart create, cart checkout). */
const COMMON = `Options for every command that buys (order create, cart create, cart checkout):
${[ENDPOINT, IDEMPOTENCY_KEY, CORRELATION_ID, WHAT_IF, CONFIRM, SIGNING].join('\n')}`;

/** The same without --idempotency-key and --what-if, which a check that buys nothing refuses. */
const CHECK_OPTIONS = `Options:
${[ENDPOINT, CORRELATION_ID, SIGNING].join('\n')}`;

const TOP_OPTIONS = `Options (--idempotency-key and --what-if only for the commands that buy: order create, cart create,
cart checkout):
${[ENDPOINT, IDEMPOTENCY_KEY, CORRELATION_ID, WHAT_IF, SIGNING].join('\n')}`;

const OUTPUT = `Output:
  The response body as indented JSON on stdout: the resource on success, the RFC 9457 problem
  (application/problem+json) when refused or failed. Diagnostics go to stderr.`;

const EXIT_CODES = `${OUTPUT}

Exit codes:
  0  success (2xx)
  1  the request was refused (4xx): the problem is on stdout
  2  usage error (bad arguments): message on stderr, nothing was sent
  3  server or upstream failure (5xx, or an answer that is not HTTP 2xx/4xx): the problem is on stdout;
     the outcome of a purchase may be unknown, so retry only with the same --idempotency-key
  4  the request could not be sent or got no answer: endpoint unreachable or connection lost, or no AWS
     credentials to sign with`;

const CHECK_EXIT_CODES = `${OUTPUT}

Exit codes:
  0  a token was acquired: the credentials work
  1  the request was refused (4xx): the problem is on stdout
  2  usage error (bad arguments): message on stderr, nothing was sent
  3  no token could be acquired (503, with Entra's error and AADSTS code), or the API failed (5xx): the
     problem is on stdout. The check buys nothing: run it again whenever you like
  4  the request could not be sent or got no answer: endpoint unreachable or connection lost, or no AWS
     credentials to sign with`;

const lineSyntax = (
  example: string,
) => `  --line-item takes key=value pairs separated by commas, one --line-item per line item (repeat it).
  Keys are matched in any case (${example}= works). Values cannot contain commas: use --line-items-json for
  those. An unknown key (with a did-you-mean), a repeated key or an entry without '=' is a usage error:
  nothing is dropped. Values are matched as Partner Center matches them: termDuration p1y is P1Y, billing
  cycle Monthly or OneTime is monthly or one_time.`;

export const TOP_HELP = `partner-orders: Microsoft Partner Center orders and carts through the partner-orders API.
The command-line counterpart of New-PartnerCustomerOrder, New-PartnerCustomerCart and Submit-PartnerCustomerCart.

Usage:
  partner-orders <command> [options]
  partner-orders <command> --help
  partner-orders --version

Commands:
  order create    Create an order; with --order-id, add add-ons to it     (New-PartnerCustomerOrder [-OrderId])
  cart create     Create a cart; with --checkout, also check it out       (New-PartnerCustomerCart)
  cart checkout   Check out a cart                                        (Submit-PartnerCustomerCart)
  credentials check  Redeem a Partner Center token now and report on the credentials (no secret values)
  order status    An order, its lines' provisioning status and one state  (Get-PartnerCustomerOrder)
  order wait      Wait until an order is provisioned (or cancelled, or --timeout)
  order list      A customer's orders, a page at a time (or --all)       (Get-PartnerCustomerOrder)
  subscription list  A customer's subscriptions (or an order's)          (Get-PartnerCustomerSubscription)
  customer check  Is this one of your customers? (one read)               (Get-PartnerCustomer)
  policy add-buyer  Make a principal a buyer in policies/entities.json (then deploy)
  purchase show   What became of a purchase sent with an --idempotency-key (lost an answer? ask here)
  catalog search  Find catalog ids by product name, for one customer      (Get-PartnerProduct[Sku|Availability])
  subscription show        A subscription, its refund window and removable seats, what renews
  subscription cancel      Cancel within the refund window (7 days after purchase or renewal)
  subscription reduce      Remove seats within their window (7 days after they were added)
  subscription auto-renew  Turn auto-renew on (--on) or off (--off)
  subscription schedule    Schedule the next term's changes (--quantity, --term-duration, ...) or --cancel them
  policy check    Validate the purchase policy files (policies/) against their Cedar schema (offline)
  policy explain  Show the purchase policy's decision, and the policies behind it, for a caller and a request
  mcp             An MCP server on stdio for AI agents: read-only unless --allow-purchases (docs/agents.md)

${TOP_OPTIONS}
  --version               Print the version (alone: 'partner-orders --version')

${EXIT_CODES}

Example:
  partner-orders order create --customer-id ${EXAMPLE_CUSTOMER} \\
    --line-item offerId=CFQ7TTC0LH18:0001:CFQ7TTC0K59S,quantity=5,termDuration=P1Y --billing-cycle monthly
`;

const ORDER_CREATE = `partner-orders order create: create an order (New-PartnerCustomerOrder), or with --order-id add
add-ons to the subscriptions of an existing order (New-PartnerCustomerOrder -OrderId).

Usage:
  partner-orders order create --customer-id GUID --line-item KEY=VALUE[,KEY=VALUE...] [--line-item ...]
                              [--billing-cycle CYCLE] [--order-id ID] [--what-if] [options]

  POST /customers/{customerId}/orders (201 Order); with --order-id: PATCH /customers/{customerId}/orders/{orderId}
  (200 Order).

Options:
  --customer-id GUID      The customer's tenant id (required)
  --line-item ITEM        One line item (repeatable), keys below
  --line-items-json JSON  The whole lineItems array as JSON, instead of --line-item
  --billing-cycle CYCLE   monthly | annual | triennial | none | one_time (Monthly, OneTime... accepted)
  --order-id ID           Add add-ons to this order (PATCH); every line then needs parentSubscriptionId
  --partner-on-record-attestation-accepted
                          Send partnerOnRecordAttestationAccepted: true

Line item keys:
  offerId=ID                       required: catalog id productId:skuId:availabilityId, or a legacy offer GUID
  quantity=N                       required: 1-10000
  termDuration=P1M|P1Y|P3Y         term (the cmdlet cannot send it)
  friendlyName=TEXT
  lineItemNumber=N                 on every line or on none; 0..n-1 (assigned in order when absent)
  partnerIdOnRecord=MPNID
  parentSubscriptionId=GUID        add-ons only (with --order-id): the subscription the add-on extends
  provisioningContext.KEY=VALUE    one provisioningContext entry (repeat for more keys)
${lineSyntax('OfferId')}

${COMMON}

${EXIT_CODES}

Examples:
  partner-orders order create --customer-id ${EXAMPLE_CUSTOMER} \\
    --line-item offerId=CFQ7TTC0LH18:0001:CFQ7TTC0K59S,quantity=5,termDuration=P1Y,friendlyName=Seats \\
    --billing-cycle monthly --idempotency-key order-2024-0001

  # add-on to the subscription created by that order
  partner-orders order create --customer-id ${EXAMPLE_CUSTOMER} --order-id Cs_jyTxubLpvdJXdo8xcQZN6I2RsLrgZ1 \\
    --line-item offerId=CFQ7TTC0LDPB:0001:CFQ7TTC0K5DJ,quantity=5,termDuration=P1Y,parentSubscriptionId=<subscription id>

  # see what would be sent, send nothing
  partner-orders order create --what-if --customer-id ${EXAMPLE_CUSTOMER} \\
    --line-items-json '[{"offerId":"CFQ7TTC0LH18:0001:CFQ7TTC0K59S","quantity":5,"friendlyName":"Seats, EU"}]'
`;

const CART_CREATE = `partner-orders cart create: create a cart (New-PartnerCustomerCart); with --checkout, check it out in the
same call (Submit-PartnerCustomerCart).

Usage:
  partner-orders cart create --customer-id GUID --line-item KEY=VALUE[,KEY=VALUE...] [--line-item ...]
                             [--checkout] [--what-if] [options]

  POST /customers/{customerId}/carts: 201 Cart, or 201 { cart, checkout } with --checkout. A checkout can
  succeed for some order groups and fail for others: read checkout.orderErrors (a warning goes to stderr). If the
  cart is created but its checkout fails, the problem carries cartId: retry with 'partner-orders cart checkout'.

Options:
  --customer-id GUID      The customer's tenant id (required)
  --line-item ITEM        One line item (repeatable), keys below
  --line-items-json JSON  The whole lineItems array as JSON, instead of --line-item
  --checkout              Check the cart out after creating it
  --partner-on-record-attestation-accepted
                          Send partnerOnRecordAttestationAccepted: true

Line item keys:
  catalogItemId=ID                 required: productId:skuId:availabilityId (or a legacy id)
  quantity=N                       required: 1-10000
  billingCycle=CYCLE               required: monthly | annual | triennial | none | one_time
  termDuration=P1M|P1Y|P3Y
  friendlyName=TEXT
  id=N                             line id: on every line or on none; 0..n-1
  renewsTo=P1Y                     renewal term: sent as { "renewsTo": { "termDuration": "P1Y" } }
  provisioningContext.KEY=VALUE    one provisioningContext entry (repeat for more keys)
  participant.TYPE=MPNID           a participant (repeatable); TYPE is transaction_reseller,
                                   consumption_reseller or additional_transaction_reseller
  (a cart line takes catalogItemId, not offerId: offerId= is refused with a hint)
${lineSyntax('CatalogItemId')}

${COMMON}

${EXIT_CODES}

Examples:
  partner-orders cart create --customer-id ${EXAMPLE_CUSTOMER} --checkout \\
    --line-item catalogItemId=CFQ7TTC0LH18:0001:CFQ7TTC0K59S,quantity=5,billingCycle=monthly,termDuration=P1Y

  partner-orders cart create --customer-id ${EXAMPLE_CUSTOMER} \\
    --line-item catalogItemId=CFQ7TTC0LH18:0001:CFQ7TTC0K59S,quantity=5,billingCycle=monthly,renewsTo=P1Y,participant.transaction_reseller=1234567
`;

const CART_CHECKOUT = `partner-orders cart checkout: check out a cart (Submit-PartnerCustomerCart).

Usage:
  partner-orders cart checkout --customer-id GUID --cart-id GUID [--what-if] [options]

  POST /customers/{customerId}/carts/{cartId}/checkout: 200 CartCheckoutResult. Partner Center makes checkout
  idempotent per cart: checking out the same cart again returns the first result. Some order groups can fail while
  others succeed: read orderErrors (a warning goes to stderr).

Options:
  --customer-id GUID      The customer's tenant id (required)
  --cart-id GUID          The cart to check out (required)

${COMMON}

${EXIT_CODES}

Example:
  partner-orders cart checkout --customer-id ${EXAMPLE_CUSTOMER} --cart-id <cart id>
`;

const CART_GROUP = `partner-orders cart: carts (New-PartnerCustomerCart, Submit-PartnerCustomerCart).

Usage:
  partner-orders cart create --customer-id GUID --line-item KEY=VALUE,... [--checkout] [options]
  partner-orders cart checkout --customer-id GUID --cart-id GUID [options]

Run 'partner-orders cart create --help' or 'partner-orders cart checkout --help' for their options.
`;

const ORDER_GROUP = `partner-orders order: orders (New-PartnerCustomerOrder, Get-PartnerCustomerOrder).

Usage:
  partner-orders order create --customer-id GUID --line-item KEY=VALUE,... [--order-id ID] [options]
  partner-orders order status --customer-id GUID --order-id ID [--json] [options]
  partner-orders order list --customer-id GUID [--billing-cycle CYCLE] [--all] [--json] [options]
  partner-orders order wait --customer-id GUID --order-id ID [--timeout DURATION] [options]

Run 'partner-orders order create --help' (or status, wait) for their options.
`;

const READ_EXIT_CODES = `${OUTPUT}

Exit codes:
  0  success (2xx)
  1  the request was refused (4xx): the problem is on stdout
  2  usage error (bad arguments): message on stderr, nothing was sent
  3  server or upstream failure (5xx): the problem is on stdout. A read buys nothing: run it again whenever you like
  4  the request could not be sent or got no answer: endpoint unreachable or connection lost, or no AWS
     credentials to sign with`;

const ORDER_STATUS = `partner-orders order status: an order as Partner Center shows it, each line's provisioning status
merged in (provisioningStatus: Fulfilled, Unfulfilled, PrefulfillmentPending), and one overall state: pending,
provisioning, provisioned, cancelled or unknown (a status value this service does not know).

Usage:
  partner-orders order status --customer-id GUID --order-id ID [--json] [options]

  GET /customers/{customerId}/orders/{orderId}: read-only (no --idempotency-key, no --what-if). Prints the order
  in one line and a table of its lines; --json prints the API's whole answer.

Options:
  --customer-id GUID      The customer's tenant id (required)
  --order-id ID           The order (required)
  --json                  The whole answer as JSON instead of the table

${CHECK_OPTIONS}

${READ_EXIT_CODES}

Example:
  partner-orders order status --customer-id ${EXAMPLE_CUSTOMER} --order-id Cs_jyTxubLpvdJXdo8xcQZN6I2RsLrgZ1
`;

const ORDER_WAIT = `partner-orders order wait: wait until an order is provisioned, asking 'order status' with backoff
(after 5, 10, 20 and 30 seconds, then every minute). Each change of state goes to stderr; the last answer to stdout.

Usage:
  partner-orders order wait --customer-id GUID --order-id ID [--timeout DURATION] [options]

Options:
  --customer-id GUID      The customer's tenant id (required)
  --order-id ID           The order (required)
  --timeout DURATION      How long to wait: 90s, 15m, 2h, or seconds (default 30m)

${CHECK_OPTIONS}

${OUTPUT}

Exit codes:
  0  the order is provisioned: every line Fulfilled
  1  the order was cancelled, or the request was refused (4xx, e.g. no such order)
  2  usage error (bad arguments): message on stderr, nothing was sent
  3  the API kept failing (5xx) until the timeout
  4  the API could not be reached until the timeout
  5  not provisioned by the timeout: the last answer is on stdout (run it again to wait longer)

Example:
  partner-orders order wait --customer-id ${EXAMPLE_CUSTOMER} --order-id Cs_jyTxubLpvdJXdo8xcQZN6I2RsLrgZ1 --timeout 1h
`;

const PURCHASE_SHOW = `partner-orders purchase show: what became of the purchases sent with an idempotency key, so that a
person who lost an answer (a timeout, exit code 3 or 4) can ask instead of guessing. One entry per operation and
customer the key was used for, each with its state: in-progress, succeeded (with the order ids), refused (with the
problem), not-placed, or unknown (sent, outcome not known yet: run the purchase again with the same key, which looks
before it buys, or wait for the reconciler).

Usage:
  partner-orders purchase show --idempotency-key KEY [options]

  GET /purchases/{idempotencyKey}: read-only. Keys belong to their caller: the AWS identity (role) that signed the
  purchase must sign this too, or nothing is found (404). Purchases refused before anything reached Partner Center
  are not listed: running them again with the key replays their answer.

Options:
  --idempotency-key KEY   The key the purchase was sent with (required)

${CHECK_OPTIONS}

${READ_EXIT_CODES}

Example:
  partner-orders purchase show --idempotency-key order-2024-0001
`;

const PURCHASE_GROUP = `partner-orders purchase: what became of a purchase.

Usage:
  partner-orders purchase show --idempotency-key KEY [options]

Run 'partner-orders purchase show --help' for its options.
`;

const CREDENTIALS_CHECK = `partner-orders credentials check: redeem a Partner Center token now with the stored
credentials and report on them: auth mode (app+user or app-only), whether a token was acquired, when the refresh
token was last rotated and the days left before Entra ID's 90-day inactivity expiry. Never a secret value.

Usage:
  partner-orders credentials check [--endpoint URL] [options]

  GET /health/credentials: 200 when a token was acquired; 503 (exit 3) with Entra's error and AADSTS code when not
  (docs/credentials.md says what to do for each code). The check buys nothing, so it takes no --idempotency-key
  and no --what-if.

${CHECK_OPTIONS}

${CHECK_EXIT_CODES}

Example:
  partner-orders credentials check --endpoint https://abc123.execute-api.eu-west-1.amazonaws.com
`;

const CATALOG_SEARCH = `partner-orders catalog search: find what to buy. The customer's products whose title or id holds
every word given, with their SKUs and purchasable catalog ids, terms, billing cycles and quantity bounds, as a table
whose first column pastes into 'order create --line-item offerId=…' or 'cart create --line-item catalogItemId=…'.

Usage:
  partner-orders catalog search --customer-id GUID [--target-view VIEW] [--json] WORD [WORD...]

  GET /customers/{customerId}/catalog?search=…&targetView=…: read-only (nothing is bought, so no
  --idempotency-key and no --what-if). Catalog ids change over time: look them up shortly before buying.

Options:
  --customer-id GUID      The customer's tenant id (required): the catalog is the customer's own view of it
  --target-view VIEW      The catalog view (default OnlineServices: new commerce licences); also Azure,
                          AzureReservations, Software, SoftwareSubscriptions, SpecializedOffers, ...
  --json                  Print the API's answer as JSON instead of the table (for scripts)

${CHECK_OPTIONS}

${EXIT_CODES}

Example:
  partner-orders catalog search --customer-id ${EXAMPLE_CUSTOMER} Microsoft 365 E3
`;

const CATALOG_GROUP = `partner-orders catalog: the customer's catalog.

Usage:
  partner-orders catalog search --customer-id GUID [--target-view VIEW] [--json] WORD [WORD...]

Run 'partner-orders catalog search --help' for its options.
`;

const SUBSCRIPTION_IDS = `  --customer-id GUID      The customer's tenant id (required)
  --subscription-id GUID  The subscription (an order line's subscriptionId; required)`;

const SUBSCRIPTION_CHANGE_OPTIONS = `Options for every change (cancel, reduce, auto-renew, schedule):
${[ENDPOINT, IDEMPOTENCY_KEY, CORRELATION_ID].join('\n')}
  --what-if               Read the subscription, check the window and print the PATCH that would be sent (and
                          what it would drop); send nothing (?dryRun=true)
${SIGNING}`;

const SUBSCRIPTION_GROUP = `partner-orders subscription: undo a purchase while it is free, and decide what renews
(docs/after-purchase.md). New commerce: a subscription can be cancelled within 7 days of its purchase or renewal,
seats removed within 7 days of when they were added; after that, schedule the change for renewal.

Usage:
  partner-orders subscription list --customer-id GUID [--order-id ID] [--all] [--json]   (see list --help)
  partner-orders subscription show --customer-id GUID --subscription-id GUID
  partner-orders subscription cancel --customer-id GUID --subscription-id GUID [--what-if]
  partner-orders subscription reduce --customer-id GUID --subscription-id GUID --seats N [--what-if]
  partner-orders subscription auto-renew --customer-id GUID --subscription-id GUID (--on | --off) [--what-if]
  partner-orders subscription schedule --customer-id GUID --subscription-id GUID [--quantity N]
                 [--term-duration P1M|P1Y|P3Y] [--billing-cycle CYCLE] [--catalog-item-id ID] [--what-if]
  partner-orders subscription schedule --customer-id GUID --subscription-id GUID --cancel

${SUBSCRIPTION_IDS}
  --seats N               reduce: how many seats to remove (the service sets the quantity to what is left, once)
  --on, --off             auto-renew: turn it on or off (off also drops what was scheduled)
  --quantity N            schedule: the next term's seats
  --term-duration D       schedule: the next term's duration
  --billing-cycle CYCLE   schedule: monthly, annual or triennial
  --catalog-item-id ID    schedule: another product:sku:availability for the next term
  --cancel                schedule: cancel what is scheduled

${SUBSCRIPTION_CHANGE_OPTIONS}

${EXIT_CODES}

Examples:
  partner-orders subscription show --customer-id ${EXAMPLE_CUSTOMER} --subscription-id SUB
  partner-orders subscription cancel --customer-id ${EXAMPLE_CUSTOMER} --subscription-id SUB --what-if
  partner-orders subscription reduce --customer-id ${EXAMPLE_CUSTOMER} --subscription-id SUB --seats 2
`;

const LIST_OPTIONS = `  --all                   Every page (one request per page), instead of the first
  --continuation-token T  The page after the one that printed this token (on stderr)
  --json                  The API's answer as JSON (with --all: { items, totalCount }) instead of the table`;

const ORDER_LIST = `partner-orders order list: a customer's orders (Get-PartnerCustomerOrder without -OrderId), a page at
a time. Partner Center's list lags: an order can take up to 15 minutes to appear
in it; a purchase just placed is read with 'order status' or 'purchase show'.

Usage:
  partner-orders order list --customer-id GUID [--billing-cycle CYCLE] [--all] [--json] [options]

  GET /customers/{customerId}/orders: read-only.

Options:
  --customer-id GUID      The customer's tenant id (required)
  --billing-cycle CYCLE   Only the orders of this billing cycle (monthly, annual, ...)
${LIST_OPTIONS}

${CHECK_OPTIONS}

${READ_EXIT_CODES}

Example:
  partner-orders order list --customer-id ${EXAMPLE_CUSTOMER} --all
`;

const SUBSCRIPTION_LIST = `partner-orders subscription list: a customer's subscriptions (Get-PartnerCustomerSubscription
without -SubscriptionId), or those one order created, a page at a time.

Usage:
  partner-orders subscription list --customer-id GUID [--order-id ID] [--all] [--json] [options]

  GET /customers/{customerId}/subscriptions: read-only.

Options:
  --customer-id GUID      The customer's tenant id (required)
  --order-id ID           Only the subscriptions this order created
${LIST_OPTIONS}

${CHECK_OPTIONS}

${READ_EXIT_CODES}

Example:
  partner-orders subscription list --customer-id ${EXAMPLE_CUSTOMER}
`;

const CUSTOMER_CHECK = `partner-orders customer check: is this one of your customers? One read of Partner Center.
Exit 0 with the company name when it is; exit 1 with 404 customer-not-found when Partner Center does not know the
tenant id (60003), refuses it (900118) or the partner has no commerce relationship with it (20002).

Usage:
  partner-orders customer check GUID [--json] [options]

  GET /customers/{customerId}: read-only.

Options:
  --json                  The API's answer as JSON instead of one line

${CHECK_OPTIONS}

${READ_EXIT_CODES}

Example:
  partner-orders customer check ${EXAMPLE_CUSTOMER}
`;

export const COMMAND_HELP: Record<CommandName, string> = {
  'subscription show': SUBSCRIPTION_GROUP,
  'subscription cancel': SUBSCRIPTION_GROUP,
  'subscription reduce': SUBSCRIPTION_GROUP,
  'subscription auto-renew': SUBSCRIPTION_GROUP,
  'subscription schedule': SUBSCRIPTION_GROUP,
  'customer check': CUSTOMER_CHECK,
  'order list': ORDER_LIST,
  'subscription list': SUBSCRIPTION_LIST,
  'order create': ORDER_CREATE,
  'order status': ORDER_STATUS,
  'order wait': ORDER_WAIT,
  'purchase show': PURCHASE_SHOW,
  'cart create': CART_CREATE,
  'cart checkout': CART_CHECKOUT,
  'credentials check': CREDENTIALS_CHECK,
  'catalog search': CATALOG_SEARCH,
};

export const GROUP_HELP: Record<
  'order' | 'cart' | 'purchase' | 'credentials' | 'catalog' | 'customer' | 'subscription',
  string
> = {
  customer: CUSTOMER_CHECK,
  subscription: SUBSCRIPTION_GROUP,
  order: ORDER_GROUP,
  purchase: PURCHASE_GROUP,
  cart: CART_GROUP,
  credentials: CREDENTIALS_CHECK,
  catalog: CATALOG_GROUP,
};

const POLICY_SOURCE = `  --policies DIR          The policy folder. Default: the policies/ this CLI ships with (what the stack deploys)
  --local                 Also policies/local/ (the local server's allow-all and example members)
  -h, --help              This help`;

export const POLICY_CHECK_HELP = `partner-orders policy check: validate the purchase policy files, offline.

Usage:
  partner-orders policy check [--policies DIR] [--local]

  Every policy in *.cedar against schema.cedarschema (Cedar's strict validation, as Verified Permissions does it),
  every policy with a unique @id and a known @field, entities.json against the schema. Prints one line per problem.

Options:
${POLICY_SOURCE}

Exit codes:
  0  the files are valid
  1  problems: listed on stdout
  2  usage error
`;

export const POLICY_EXPLAIN_HELP = `partner-orders policy explain: the purchase policy's decision for a caller and a request, offline, from the
policy files (cedar-wasm, the same files the stack deploys to Amazon Verified Permissions). Nothing is sent.

Usage:
  partner-orders policy explain --caller CALLER --action ACTION --customer-id GUID --line-item ITEM [...]
                                [--group NAME ...] [--billing-cycle CYCLE] [--checkout] [--policies DIR] [--local]

Options:
  --caller CALLER         Who asks, as the service names callers: events:<source> (an event producer), invoke
                          (direct invocation), an IAM role ARN (SigV4), http:jwt:["<issuer>","<subject>"] (a JWT)
  --group NAME            A group or app role the caller's JWT claims (repeatable)
  --action ACTION         CreateOrder | AddOn | CreateCart | CheckoutCart
  --customer-id GUID      The customer
  --line-item ITEM        One line item, as for order create (CreateOrder, AddOn) or cart create (CreateCart, and
                          CheckoutCart: the lines of the cart to check out); repeatable
  --line-items-json JSON  The lineItems array as JSON, instead of --line-item
  --billing-cycle CYCLE   The order's billing cycle (CreateOrder, AddOn)
  --order-id ID           The order an add-on extends (AddOn)
  --cart-id ID            The cart to check out (CheckoutCart)
  --checkout              A cart created and checked out at once: judged as CreateCart and CheckoutCart
${POLICY_SOURCE}

Output:
  The decision as JSON on stdout: decision, principal, actions, the deciding policies (@id), and for a refusal the
  field (as the HTTP API names it) and the reason. A sentence on stderr.

Exit codes:
  0  allowed
  1  refused
  2  usage error, an invalid request, or policy files with problems

Example:
  partner-orders policy explain --local --caller events:com.example.billing --action CreateOrder \\
    --customer-id ${EXAMPLE_CUSTOMER} --line-item offerId=CFQ7TTC0LH18:0001:CFQ7TTC0K59S,quantity=5,termDuration=P3Y
`;

export const POLICY_ADD_BUYER_HELP = `partner-orders policy add-buyer: make a caller a member of a group (buyers by default) in
policies/entities.json, offline. A deployed stack permits nobody until someone is in buyers; this is that edit. Deploy
afterwards (npm run deploy): the members go to Amazon Verified Permissions with the functions.

Usage:
  partner-orders policy add-buyer CALLER [--group NAME] [--policies DIR]

  CALLER                  An IAM role ARN (SigV4 callers), events:<source> (an event producer), invoke (direct
                          invocation) or http:jwt:["<issuer>","<subject>"] (a JWT user)
  --group NAME            The group to join (default buyers; e.g. automation, contoso-systems)
  --policies DIR          The policy folder. Default: the policies/ this CLI ships with (what the stack deploys)
  -h, --help              This help

Exit codes:
  0  added, or already a member
  2  usage error, or no such group

Example:
  partner-orders policy add-buyer arn:aws:iam::111122223333:role/PartnerAdmin
`;

export const POLICY_HELP = `partner-orders policy: the purchase policy (policies/, docs/authorization.md), offline.

Usage:
  partner-orders policy check [--policies DIR] [--local]
  partner-orders policy add-buyer CALLER [--group NAME] [--policies DIR]
  partner-orders policy explain --caller CALLER --action ACTION --customer-id GUID --line-item ITEM [...]
  partner-orders policy <check|explain> --help
`;
