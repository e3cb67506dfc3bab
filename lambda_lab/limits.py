"""AWS limits and defaults, each named once and cited, and the one range check that enforces them.

Every number the lab and ``lambda_lab.sim`` use comes from here; the source is the AWS page
in the comment above it (most are also in ``reference/aws-facts.md``, compiled 2026-11-26).
Names carry their unit: ``_S`` seconds, ``_MS`` milliseconds, ``_MB`` megabytes (Lambda's
MB, 1,024 x 1,024 bytes), ``_BYTES``, ``_USD``; a name without a unit is a count.

This module imports only the standard library (and ``lambda_lab.errors``, which does too), so
the simulation can use it without boto3, moto or pandas.
"""

from __future__ import annotations

import numbers
from typing import Any

from .errors import ConfigurationError

# --- Pages cited by error messages ------------------------------------------------------------
QUOTAS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
CREATE_FUNCTION_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html"
INVOKE_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html"
CONCURRENCY_URL = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html"
PUT_FUNCTION_CONCURRENCY_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html"
SCALING_URL = "https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html"
RUNTIME_ENVIRONMENT_URL = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html"
ASYNC_ERRORS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html"
EVENT_INVOKE_CONFIG_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html"
RECURSION_URL = "https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html"
DLQ_URL = "https://docs.aws.amazon.com/lambda/latest/dg/dlq.html"
ON_FAILURE_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_OnFailure.html"
SQS_PARAMETERS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html"
SQS_CONFIGURE_URL = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html"
SQS_SCALING_URL = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html"
SCALING_CONFIG_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_ScalingConfig.html"
ESM_URL = "https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html"
RECEIVE_MESSAGE_URL = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html"
DDB_URL = "https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html"
DDB_PARAMETERS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html"
SNS_RETRIES_URL = "https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html"
SNS_LAMBDA_URL = "https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html"
SNS_DLQ_URL = "https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html"
SNS_LARGE_PAYLOAD_URL = "https://docs.aws.amazon.com/sns/latest/dg/large-message-payloads.html"
SNS_PUBLISH_BATCH_URL = "https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html"
EVENTBRIDGE_RETRY_URL = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html"
EVENTBRIDGE_QUOTAS_URL = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html"
PAYLOAD_BLOG_URL = "https://aws.amazon.com/blogs/compute/more-room-to-build-serverless-services-now-support-payloads-up-to-1-mb"
LAMBDA_METRICS_URL = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html"
SQS_METRICS_URL = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html"
METRIC_STAT_URL = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricStat.html"

_MB_BYTES = 1024 * 1024  # Lambda's and SQS's "MB" in byte limits is 1,048,576 bytes
_KB_BYTES = 1024

# --- Functions --------------------------------------------------------------------------------
# CREATE_FUNCTION_URL: FunctionName "The length constraint applies only to the full ARN. If you
# specify only the function name, it is limited to 64 characters in length."; its pattern's name
# part is [a-zA-Z0-9-_]+ (letters, digits, hyphens and underscores).
FUNCTION_NAME_MAX = 64
FUNCTION_NAME_PATTERN = r"[a-zA-Z0-9_-]{1,64}"
# QUOTAS_URL: "Code can run for up to 15 minutes in a single invocation".
# CREATE_FUNCTION_URL: Timeout "The default is 3 seconds. The maximum allowed value is 900
# seconds." (the API's valid range is 1-900)
FUNCTION_TIMEOUT_MIN_S = 1
FUNCTION_TIMEOUT_MAX_S = 900
FUNCTION_TIMEOUT_DEFAULT_S = 3
# QUOTAS_URL: "Function memory allocation: 128 MB to 10,240 MB, in 1-MB increments".
# CREATE_FUNCTION_URL: MemorySize "The default value is 128 MB."
FUNCTION_MEMORY_MIN_MB = 128
FUNCTION_MEMORY_MAX_MB = 10_240
FUNCTION_MEMORY_DEFAULT_MB = 128
# RUNTIME_ENVIRONMENT_URL: "The Init phase is limited to 10 seconds."
INIT_MAX_S = 10
# RUNTIME_ENVIRONMENT_URL: "The duration of a cold start varies from under 100 ms to over 1 second."
COLD_START_MS = 250.0  # a mid-range choice inside the documented 100 ms .. 1 s span (the sim's)

# --- Payloads ---------------------------------------------------------------------------------
# INVOKE_URL: "For synchronous invocations, the maximum payload size is 6 MB. For asynchronous
# invocations, the maximum payload size is 1 MB."
SYNC_PAYLOAD_MAX_BYTES = 6 * _MB_BYTES
ASYNC_PAYLOAD_MAX_BYTES = 1 * _MB_BYTES
# A response over the synchronous limit is a function error; AWS's message counts 6,291,556 bytes
# (100 more than 6 MiB), measured on the JSON the function returns:
# https://zaccharles.medium.com/deep-dive-lambdas-response-payload-size-limit-8aedba9530ed
# ("errorType": "Function.ResponseSizeTooLarge", "Response payload size exceeded maximum allowed
# payload size (6291556 bytes).")
SYNC_RESPONSE_MAX_BYTES = 6_291_556
# PAYLOAD_BLOG_URL: "raised the maximum payload size from 256 KB to 1 MB" (October 2025); history only.
ASYNC_PAYLOAD_MAX_BYTES_BEFORE_2025_10 = 256 * _KB_BYTES
# ON_FAILURE_URL: "Amazon SNS destinations have a message size limit of 256 KB."
SNS_DESTINATION_MAX_BYTES = 256 * _KB_BYTES
# https://docs.aws.amazon.com/sns/latest/dg/large-message-payloads.html: "By default, topics accept
# messages up to 256 KiB" (up to 1 MiB with the MaximumMessageSize topic attribute).
SNS_MESSAGE_MAX_BYTES = 256 * _KB_BYTES
# SNS_LARGE_PAYLOAD_URL: "You can set the MaximumMessageSize topic attribute to any integer value
# between 1,024 and 1,048,576 bytes. By default, all existing and newly created topics have a
# MaximumMessageSize of 262,144 bytes (256 KiB)." The size counted is "the combined size of the
# message body and message attributes"; over it, "Amazon SNS returns an InvalidParameter error".
SNS_MAXIMUM_MESSAGE_SIZE_MIN_BYTES = 1_024
SNS_MAXIMUM_MESSAGE_SIZE_MAX_BYTES = 1 * _MB_BYTES
SNS_MAXIMUM_MESSAGE_SIZE_DEFAULT_BYTES = SNS_MESSAGE_MAX_BYTES
# SNS_PUBLISH_BATCH_URL: "up to 10 messages" per PublishBatch request.
SNS_PUBLISH_BATCH_MAX_ENTRIES = 10
# SNS_FILTER_CONSTRAINTS_URL: "A filter policy can have a maximum of five keys." "The total combination
# of values in a filter policy must not exceed 150." "The maximum size of a filter policy is 256 KB."
# "For numeric matching, the value can range from -10^9 to 10^9 (-1 billion to 1 billion), with
# five digits of accuracy after the decimal point."
SNS_FILTER_CONSTRAINTS_URL = "https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html"
SNS_FILTER_MAX_KEYS = 5
SNS_FILTER_MAX_COMBINATIONS = 150
SNS_FILTER_MAX_BYTES = 256 * _KB_BYTES
SNS_FILTER_NUMBER_LIMIT = 1_000_000_000
SNS_FILTER_NUMBER_DECIMALS = 5

# --- Concurrency and scaling ------------------------------------------------------------------
# CONCURRENCY_URL: "a total concurrency limit of 1,000 concurrent executions across all
# functions in an AWS Region" (new accounts start lower).
ACCOUNT_CONCURRENCY = 1_000
# PUT_FUNCTION_CONCURRENCY_URL: "leave at least 100 simultaneous executions unreserved";
# ReservedConcurrentExecutions "Minimum value of 0".
UNRESERVED_FLOOR = 100
RESERVED_CONCURRENCY_MIN = 0
# SCALING_URL (since 2023-11-27): "1,000 execution environment instances every 10 seconds"
# per function, refilled continuously.
SCALING_ENVS = 1_000
SCALING_WINDOW_S = 10.0
# Pre-2023 rule, history only: awsdocs archive doc_source/invocation-scaling.md
# (was https://docs.aws.amazon.com/lambda/latest/dg/invocation-scaling.html)
# "3000 - US West (Oregon), US East (N. Virginia), Europe (Ireland)"; then "500 instances each minute".
LEGACY_BURST_US_EAST_1 = 3_000
LEGACY_BURST_PER_MIN = 500
# RECURSION_URL: Lambda stops a loop after "approximately 16" invocations in one request chain.
RECURSION_LIMIT = 16

# --- Asynchronous invocation ------------------------------------------------------------------
# EVENT_INVOKE_CONFIG_URL: MaximumRetryAttempts "Minimum value of 0. Maximum value of 2.";
# ASYNC_ERRORS_URL: "by default Lambda attempts to run it two more times".
ASYNC_MIN_RETRY_ATTEMPTS = 0
ASYNC_MAX_RETRY_ATTEMPTS = 2
ASYNC_DEFAULT_RETRY_ATTEMPTS = 2
# EVENT_INVOKE_CONFIG_URL: MaximumEventAgeInSeconds "Minimum value of 60. Maximum value of
# 21600."; "It retains events in a queue for up to six hours." (the default)
ASYNC_MIN_EVENT_AGE_S = 60
ASYNC_MAX_EVENT_AGE_S = 21_600
ASYNC_DEFAULT_EVENT_AGE_S = 21_600
# ASYNC_ERRORS_URL: "a one-minute wait between the first two attempts, and two minutes between
# the second and third attempts"
ASYNC_ERROR_RETRY_DELAYS_S = (60.0, 120.0)
# ASYNC_ERRORS_URL (throttles and 5xx): "The retry interval increases exponentially from
# 1 second after the first attempt to a maximum of 5 minutes."
ASYNC_THROTTLE_BASE_S = 1.0
ASYNC_THROTTLE_CAP_S = 300.0
# DLQ_URL: the dead-letter message's ErrorMessage attribute is "truncated to 1 KB".
DLQ_ERROR_MESSAGE_MAX_BYTES = 1 * _KB_BYTES

# --- Event source mappings: batching (SQS and streams) ----------------------------------------
# SQS_PARAMETERS_URL: MaximumBatchingWindowInSeconds default 0; the API reference (quoted by
# https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/lambda/aws.sdk.kotlin.services.lambda.model/-get-event-source-mapping-response/maximum-batching-window-in-seconds.html):
# "any value from 0 seconds to 300 seconds" and "For streams and Amazon SQS event sources, when
# you set BatchSize to a value greater than 10, you must set MaximumBatchingWindowInSeconds to
# at least 1." (so the rule is shared by SQS and stream mappings)
BATCHING_WINDOW_MIN_S = 0
BATCHING_WINDOW_MAX_S = 300
BATCHING_WINDOW_DEFAULT_S = 0
WINDOW_REQUIRED_ABOVE_BATCH_SIZE = 10
WINDOW_REQUIRED_MIN_S = 1

# --- SQS event source mapping -----------------------------------------------------------------
# SQS_PARAMETERS_URL: BatchSize default 10; "For standard queues, the maximum is 10,000.
# For FIFO queues, the maximum is 10."
SQS_BATCH_SIZE_MIN = 1
SQS_BATCH_SIZE = 10  # the default (the sim's name)
SQS_BATCH_SIZE_MAX = 10_000
SQS_FIFO_BATCH_SIZE_MAX = 10
# RECEIVE_MESSAGE_URL: MaxNumberOfMessages "Valid values: 1 to 10"; WaitTimeSeconds at most 20
# (the longest long poll).
SQS_RECEIVE_MAX = 10
SQS_LONG_POLL_MAX_S = 20.0
# PAYLOAD_BLOG_URL: SQS messages up to 1 MiB since 2025 (256 KiB before).
SQS_MESSAGE_MAX_BYTES = 1 * _MB_BYTES
# SQS_SCALING_URL: "starts processing five batches at a time ... up to 300 more instances per
# minute. The maximum number of batches that an event source mapping can process
# simultaneously is 1,000."
SQS_INITIAL_BATCHES = 5
SQS_SCALE_PER_MIN = 300
# History: 60 per minute until https://aws.amazon.com/about-aws/whats-new/2023/11/aws-lambda-polling-scale-rate-sqs-event-source
SQS_SCALE_PER_MIN_BEFORE_2023_11 = 60
SQS_MAX_BATCHES = 1_000  # the Nov 2023 blog and re:Post say 1,250; the Developer Guide says 1,000
# SCALING_CONFIG_URL: MaximumConcurrency "Minimum value of 2. Maximum value of 1000."
SQS_MAX_CONCURRENCY_MIN = 2
SQS_MAX_CONCURRENCY_MAX = 1_000
# SQS_CONFIGURE_URL: visibility timeout "at least six times the configuration timeout on your
# function" (plus MaximumBatchingWindowInSeconds).
SQS_VISIBILITY_FACTOR = 6
# Lambda Developer Guide, "Using Lambda with Amazon SQS" (awsdocs archive, with-sqs.md): "If your
# batch window is greater than 0, and (batch window) + (function timeout) > (queue visibility
# timeout), then your effective queue visibility timeout is (batch window) + (function timeout) + 30s."
SQS_WINDOW_VISIBILITY_MARGIN_S = 30
# awsdocs archive with-sqs.md: "set the maxReceiveCount on the source queue's redrive policy to
# at least 5" (a recommendation, not a limit).
SQS_MAX_RECEIVE_COUNT = 5

# --- DynamoDB Streams event source mapping (aws-facts §7) -------------------------------------
# DDB_PARAMETERS_URL: BatchSize default 100, max 10,000.
DDB_BATCH_SIZE_MIN = 1
DDB_BATCH_SIZE_DEFAULT = 100
DDB_BATCH_SIZE_MAX = 10_000
# DDB_PARAMETERS_URL: MaximumRetryAttempts default -1 (infinite), "Minimum: 0 Maximum: 10,000".
STREAM_RETRY_INFINITE = -1
STREAM_MIN_RETRY_ATTEMPTS = 0
STREAM_MAX_RETRY_ATTEMPTS = 10_000
# DDB_PARAMETERS_URL: MaximumRecordAgeInSeconds default -1 (infinite), "Minimum: -1 Maximum:
# 604,800"; the API reference's model text adds "values less than 60 and greater than -1 ... are not
# allowed" (quoted by the SDK docs of CreateEventSourceMapping), so 0-59 are refused.
STREAM_RECORD_AGE_INFINITE = -1
STREAM_MIN_RECORD_AGE_S = 60
STREAM_MAX_RECORD_AGE_S = 604_800
# DDB_PARAMETERS_URL: ParallelizationFactor default 1, max 10.
PARALLELIZATION_FACTOR_MIN = 1
PARALLELIZATION_FACTOR_DEFAULT = 1
PARALLELIZATION_FACTOR_MAX = 10
# DDB_PARAMETERS_URL: TumblingWindowInSeconds 0-900.
TUMBLING_WINDOW_MIN_S = 0
TUMBLING_WINDOW_MAX_S = 900
# DDB_URL: "polls shards in your DynamoDB stream for records at a base rate of 4 times per second".
DDB_POLLS_PER_S = 4
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html: records are kept
# "for up to 24 hours"; DDB_URL: "up to two Lambda functions to read from the same DynamoDB
# Streams shard" (one for global tables).
DDB_STREAM_RETENTION_S = 86_400
DDB_READERS_PER_SHARD = 2

# --- SNS delivery to Lambda and SQS (AWS-managed endpoints) -----------------------------------
# SNS_RETRIES_URL: "3 times, without delay | 2 times, 1 second apart | 10 times, exponential
# backoff from 1 s to 20 s | 100,000 times, 20 seconds apart | 100,015 attempts over 23 days"
SNS_IMMEDIATE = 3
SNS_PRE_BACKOFF = 2
SNS_PRE_BACKOFF_DELAY_S = 1.0
SNS_BACKOFF = 10
SNS_BACKOFF_MIN_S = 1.0
SNS_BACKOFF_MAX_S = 20.0
SNS_POST_BACKOFF = 100_000
SNS_POST_BACKOFF_DELAY_S = 20.0
SNS_TOTAL_ATTEMPTS = 100_015
# SNS_LAMBDA_URL: "Lambda supports SNS triggers for standard SNS topics only. FIFO topics aren't
# supported." SNS_DLQ_URL: client-side errors ("when an owner deletes the endpoint (for example, a
# Lambda function subscribed to an Amazon SNS topic)") are not retried; server-side errors from
# Lambda or SQS endpoints are retried "up to 100,015 times, over 23 days" (the policy above).

# --- EventBridge ------------------------------------------------------------------------------
# EVENTBRIDGE_RETRY_URL: "retries sending the event for 24 hours and up to 185 times with an
# exponential back off and jitter"; the target's RetryPolicy.MaximumRetryAttempts (default 185,
# 0-185) is "the maximum number of retry attempts", so 185 retries after the first attempt.
EVENTBRIDGE_MAX_RETRY_ATTEMPTS = 185
EVENTBRIDGE_MAX_ATTEMPTS = EVENTBRIDGE_MAX_RETRY_ATTEMPTS + 1  # the first attempt and 185 retries
EVENTBRIDGE_MAX_AGE_S = 86_400
# https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html: 10 entries per
# request; EVENTBRIDGE_QUOTAS_URL: "Targets per rule | 5".
EVENTBRIDGE_PUT_EVENTS_MAX_ENTRIES = 10
EVENTBRIDGE_TARGETS_PER_RULE = 5
# https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html: "PutEvents will
# only process nested JSON up to 1100 levels deep."
EVENTBRIDGE_EVENT_MAX_DEPTH = 1_100
# PAYLOAD_BLOG_URL: 1 MB for "EventBridge" events since January 2026. The PutEvents API
# reference still says "The maximum size for a PutEvents event entry is 256 KB" (historical).
EVENTBRIDGE_EVENT_MAX_BYTES = 1 * _MB_BYTES
# AWS documents no nesting limit for an event pattern, only its length: Lambda's
# https://docs.aws.amazon.com/lambda/latest/api/API_Filter.html Pattern "Maximum length of 4096"
# (so at most ~680 levels of {"a": ...}). The lab's own limit, counting objects and arrays, is
# far above real patterns and keeps validating and matching clear of Python's recursion limit.
PATTERN_MAX_DEPTH = 100  # the lab's limit, not AWS's

# --- API Gateway (aws-facts §8) ----------------------------------------------------------------
APIGW_REST_QUOTAS_URL = ("https://docs.aws.amazon.com/apigateway/latest/developerguide/"
                         "api-gateway-execution-service-limits-table.html")
APIGW_HTTP_QUOTAS_URL = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html"
APIGW_ACCOUNT_QUOTAS_URL = "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"
APIGW_TIMEOUT_NEWS_URL = ("https://aws.amazon.com/about-aws/whats-new/2024/06/"
                          "amazon-api-gateway-integration-timeout-limit-29-seconds/")
APIGW_THROTTLING_URL = ("https://docs.aws.amazon.com/apigateway/latest/developerguide/"
                        "api-gateway-request-throttling.html")
APIGW_HTTP_THROTTLING_URL = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-throttling.html"
APIGW_STAGE_URL = "https://docs.aws.amazon.com/apigateway/latest/api/API_CreateStage.html"
# APIGW_REST_QUOTAS_URL: "Integration timeout for Regional APIs: 50 milliseconds - 29 seconds"; 29 s
# is the default, and the most an edge-optimized API takes.
APIGW_REST_TIMEOUT_MIN_MS = 50
APIGW_REST_TIMEOUT_DEFAULT_MS = 29_000
APIGW_REST_TIMEOUT_MAX_MS = APIGW_REST_TIMEOUT_DEFAULT_MS  # edge-optimized APIs cannot raise it
# APIGW_TIMEOUT_NEWS_URL (2024-06-04): "You can raise the integration timeout to greater than 29
# seconds for Regional REST APIs and private REST APIs". AWS names no upper bound for the raised
# value: the lab stops at the function's own maximum, beyond which a longer wait could never matter.
APIGW_REST_TIMEOUT_RAISED_MAX_MS = FUNCTION_TIMEOUT_MAX_S * 1000  # the lab's bound, not AWS's
# APIGW_HTTP_QUOTAS_URL: "Maximum integration timeout | 30 seconds | No" (not adjustable); the
# CloudFormation TimeoutInMillis range is "between 50 and 30,000 milliseconds for HTTP APIs".
APIGW_HTTP_TIMEOUT_MIN_MS = 50
APIGW_HTTP_TIMEOUT_MAX_MS = 30_000
# APIGW_THROTTLING_URL: "By default, API Gateway limits the steady-state request rate to 10,000
# requests per second (rps). It limits the burst (that is, the maximum bucket size) to 5,000 requests
# across all APIs within an AWS account." Stage limits above these are bounded by them. HTTP APIs
# share the quota and the token bucket (APIGW_ACCOUNT_QUOTAS_URL: "Throttle quota per account, per
# Region across HTTP APIs, REST APIs, ... 10,000 requests per second (RPS) ... using a maximum bucket
# capacity of 5,000 requests"; 2,500 / 1,250 in some newer Regions, not us-east-1).
APIGW_ACCOUNT_RATE_PER_S = 10_000.0
APIGW_ACCOUNT_BURST = 5_000
# APIGW_REST_QUOTAS_URL and APIGW_HTTP_QUOTAS_URL: "Payload size | 10 MB | No"; Lambda's synchronous
# 6 MB (SYNC_PAYLOAD_MAX_BYTES) is the tighter one for the event.
APIGW_PAYLOAD_MAX_BYTES = 10 * _MB_BYTES
# APIGW_STAGE_URL: "Stage names can only contain alphanumeric characters, hyphens, and underscores.
# Maximum length is 128 characters."
APIGW_STAGE_NAME_MAX = 128
APIGW_STAGE_NAME_PATTERN = r"[A-Za-z0-9_-]{1,128}"

# --- CloudWatch metrics ---------------------------------------------------------------------
# METRIC_STAT_URL: Period "For metrics with regular resolution, a period can be as short as one
# minute (60 seconds) and must be a multiple of 60." AWS/Lambda and AWS/SQS metrics are regular
# (standard) resolution, so 60 s is both the shortest period and the lab's SQS sampling interval.
CLOUDWATCH_PERIOD_S = 60

# --- Backoff and jitter (AWS Architecture Blog, 2015) ---------------------------------------
# https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
# "the network introduces delay with a mean of 10ms and variance of 4ms" (sd 2 ms);
# aws-samples/aws-arch-backoff-simulator uses base = 5 ms and cap = 2,000 ms.
BLOG_NET_MEAN_MS = 10.0
BLOG_NET_SD_MS = 2.0
BLOG_BASE_MS = 5.0
BLOG_CAP_MS = 2_000.0

# --- Prices (us-east-1, x86; dated; check the live pricing pages) -----------------------------
PRICES_AS_OF = "2026-11 (reference/aws-facts.md §10)"
# https://docs.aws.amazon.com/whitepapers/latest/how-aws-pricing-works/lambda.html
LAMBDA_PER_REQUEST_USD = 0.20 / 1e6
LAMBDA_PER_GB_S_USD = 0.0000166667
LAMBDA_FREE_REQUESTS = 1_000_000
LAMBDA_FREE_GB_S = 400_000
# https://cloudburn.io/blog/amazon-sqs-pricing (Mar 2026): standard $0.40 per 1M, first 1M free
SQS_PER_REQUEST_USD = 0.40 / 1e6
SQS_FREE_REQUESTS = 1_000_000
# https://aws.amazon.com/sns/pricing/ as copied in a public repo, and
# https://www.factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols/ (Jun 2026):
# publishes $0.50 per 1M (first 1M free), "No charge for deliveries to Lambda"
SNS_PER_PUBLISH_USD = 0.50 / 1e6
SNS_FREE_PUBLISHES = 1_000_000
# https://cloudburn.io/blog/amazon-eventbridge-pricing (Mar 2026): custom events $1.00 per 1M
EVENTBRIDGE_PER_EVENT_USD = 1.00 / 1e6
# https://c3x.dev/blog/s3-request-fees-explained (2026): S3 Standard PUT/COPY/POST/LIST $0.005 per
# 1,000 requests; S3's free tier is left out
S3_PER_PUT_USD = 0.005 / 1000

# --- Provisioned concurrency and environment lifetime (aws-facts §3, §10) ----------------------
PROVISIONED_CONCURRENCY_URL = "https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html"
LAMBDA_PRICING_URL = "https://aws.amazon.com/lambda/pricing/"
# CONCURRENCY_URL: "Both reserved concurrency and provisioned concurrency count towards your account
# concurrency limit and Regional quotas." and "You can't allocate more provisioned concurrency than
# reserved concurrency for a function." (PROVISIONED_CONCURRENCY_URL says the same). A function without
# reserved concurrency takes its provisioned concurrency out of the unreserved pool, which must keep
# UNRESERVED_FLOOR: PutProvisionedConcurrencyConfig answers "Specified ConcurrentExecutions for function
# decreases account's UnreservedConcurrentExecution below its minimum value of [N]"
# (https://github.com/anomalyco/sst/issues/5829). The API's ProvisionedConcurrentExecutions starts at 1
# (https://docs.aws.amazon.com/lambda/latest/api/API_PutProvisionedConcurrencyConfig.html; botocore's
# model: PositiveInteger, min 1); the lab's 0 means "no configuration".
PROVISIONED_CONCURRENCY_MIN = 0
# Prices, us-east-1, x86. LAMBDA_PRICING_URL, "Provisioned Concurrency Pricing": "You pay for the amount of
# concurrency you configure, and for the period of time you configure it. When Provisioned Concurrency is
# enabled and executed for your function, you also pay for Requests and Duration based on the prices
# below. If your function exceeds the configured concurrency, you will be billed for excess function
# execution at the rate outlined in the AWS Lambda Pricing section above." and "Provisioned Concurrency is
# calculated from the time you enable it on your function until it is disabled, rounded up to the nearest
# five minutes." The page draws its price table in the browser; the figures are AWS's price list as its
# calculator loads it (https://calculator.aws/pricing/2.0/meteredUnitMaps/lambda/USD/current/lambda.json:
# "Lambda Provisioned-Concurrency" 0.0000041667 and "Lambda Duration-Provisioned" 0.0000097222, as copied
# in remotion-dev/remotion packages/lambda/src/pricing/price-per-1-s.ts), and agree with
# https://awsnegotiations.com/lambda-provisioned-concurrency-cost.html ("~$0.0000041667 per GB-second",
# "~$0.0000097222 per GB-second on x86"). Requests cost LAMBDA_PER_REQUEST_USD either way.
PROVISIONED_PRICES_AS_OF = "2026-11 (AWS price list copies; not checked against the live page)"
LAMBDA_PROVISIONED_PER_GB_S_USD = 0.0000041667
LAMBDA_PROVISIONED_DURATION_PER_GB_S_USD = 0.0000097222
LAMBDA_PROVISIONED_BILLING_INCREMENT_S = 5 * 60
# LAMBDA_PRICING_URL's worked examples: "Total compute (GB-s) = 3,000,000 * 512MB/1024" (1 GB = 1,024 MB).
LAMBDA_MB_PER_GB = 1024
# No idle lifetime: AWS publishes none. RUNTIME_ENVIRONMENT_URL: "After the function and all extensions
# have completed, Lambda maintains the execution environment for some time in anticipation of another
# function invocation. However, Lambda terminates execution environments every few hours"; CONCURRENCY_URL:
# "Lambda may completely terminate an environment after a period of inactivity". The lab keeps
# environments for ever unless Lab(environment_idle_s=...) sets a lifetime, the lab's assumption.


# --- The one range check ----------------------------------------------------------------------
def check_range(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    unit: str = "",
    url: str,
    integer: bool = False,
    allowed: tuple = (),
) -> None:
    """Refuse ``value`` for the AWS setting ``name`` unless it is in ``low..high`` or ``allowed``.

    Raises ``ConfigurationError`` worded the same way for every setting, e.g.
    ``Timeout must be 1-900 seconds, got 1000 (https://...gettingstarted-limits.html)``.
    Bools and non-numbers are refused (``True`` is not a timeout); with ``integer=True`` so are
    floats, even whole ones, as AWS's integer fields refuse them. ``unit`` is printed after
    the range (``"seconds"``, ``"MB"``); ``allowed`` holds values outside the range that AWS
    accepts too, such as ``-1`` for "infinite".
    """
    if not _acceptable(value, low, high, integer=integer, allowed=allowed):
        raise ConfigurationError(
            f"{name} must be {describe_range(low, high, unit=unit, integer=integer, allowed=allowed)}, "
            f"got {value!r} ({url})"
        )


def describe_range(low: float, high: float, *, unit: str = "", integer: bool = False, allowed: tuple = ()) -> str:
    """The range as ``check_range`` words it: ``1-900 seconds``, ``a whole number, -1 or 0-10,000``."""
    span = " or ".join([*(_number(a) for a in allowed), f"{_number(low)}-{_number(high)}"])
    whole = "a whole number, " if integer else ""
    return f"{whole}{span}{' ' + unit if unit else ''}"


def _acceptable(value: Any, low: float, high: float, *, integer: bool, allowed: tuple) -> bool:
    # bool is an int subclass in Python, but no AWS numeric field takes true/false.
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    if integer and not isinstance(value, numbers.Integral):
        return False
    return value in allowed or low <= value <= high  # NaN fails both, as it should


def _number(x: float) -> str:
    """``10000`` -> ``10,000``; ``60.0`` -> ``60``; ``0.5`` -> ``0.5``."""
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return f"{x:,}" if isinstance(x, int) else f"{x:,g}"
