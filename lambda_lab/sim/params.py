"""AWS numbers the simulation uses, each named once and cited.

Every value comes from ``reference/aws-facts.md`` (compiled 2026-11-26). Times are in
seconds (``_S``), sizes in the unit in the name; prices are US dollars for us-east-1, x86.
"""

from __future__ import annotations

# --- Concurrency and scaling ---------------------------------------------------------------
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
# "a total concurrency limit of 1,000 concurrent executions across all functions in an AWS Region"
ACCOUNT_CONCURRENCY = 1_000

# https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionConcurrency.html
# "leave at least 100 simultaneous executions unreserved"
UNRESERVED_FLOOR = 100

# https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html (since 2023-11-27)
# "1,000 execution environment instances every 10 seconds" per function, refilled continuously.
SCALING_ENVS = 1_000
SCALING_WINDOW_S = 10.0

# Pre-2023 rule, history only: awsdocs archive doc_source/invocation-scaling.md
# (was https://docs.aws.amazon.com/lambda/latest/dg/invocation-scaling.html)
# "3000 - US West (Oregon), US East (N. Virginia), Europe (Ireland)"; then "500 instances each minute".
LEGACY_BURST_US_EAST_1 = 3_000
LEGACY_BURST_PER_MIN = 500

# https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
# "The duration of a cold start varies from under 100 ms to over 1 second."
COLD_START_MS = 250.0  # a mid-range choice inside the documented 100 ms .. 1 s span

# --- Asynchronous invocation --------------------------------------------------------------
# https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
# "two more times, with a one-minute wait between the first two attempts, and two minutes
# between the second and third attempts"
ASYNC_MAX_RETRY_ATTEMPTS = 2
ASYNC_ERROR_RETRY_DELAYS_S = (60.0, 120.0)
# "retry interval increases exponentially from 1 second after the first attempt to a maximum of 5 minutes"
ASYNC_THROTTLE_BASE_S = 1.0
ASYNC_THROTTLE_CAP_S = 300.0
# https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html
# MaximumEventAgeInSeconds "Minimum value of 60. Maximum value of 21600." Default 6 h.
ASYNC_MAX_EVENT_AGE_S = 21_600.0
ASYNC_MIN_EVENT_AGE_S = 60.0

# --- SQS event source mapping -------------------------------------------------------------
# https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
# "starts processing five batches at a time ... up to 300 more instances per minute.
# The maximum number of batches that an event source mapping can process simultaneously is 1,000."
SQS_INITIAL_BATCHES = 5
SQS_SCALE_PER_MIN = 300
SQS_SCALE_PER_MIN_BEFORE_2023_11 = 60  # https://aws.amazon.com/about-aws/whats-new/2023/11/aws-lambda-polling-scale-rate-sqs-event-source
SQS_MAX_BATCHES = 1_000  # the Nov 2023 blog and re:Post say 1,250; the Developer Guide says 1,000
# https://docs.aws.amazon.com/lambda/latest/api/API_ScalingConfig.html  "Minimum value of 2. Maximum value of 1000."
SQS_MAX_CONCURRENCY_MIN = 2
SQS_MAX_CONCURRENCY_MAX = 1_000
# https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html  BatchSize default 10, standard max 10,000
SQS_BATCH_SIZE = 10
SQS_BATCH_SIZE_MAX = 10_000
# https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
# visibility timeout "at least six times the configuration timeout on your function"
SQS_VISIBILITY_FACTOR = 6
# awsdocs archive with-sqs.md: "set the maxReceiveCount on the source queue's redrive policy to at least 5"
SQS_MAX_RECEIVE_COUNT = 5

# --- SNS delivery to Lambda and SQS (AWS-managed endpoints) -----------------------------------
# https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html
# "3 times, without delay | 2 times, 1 second apart | 10 times, exponential backoff from 1 s to 20 s |
#  100,000 times, 20 seconds apart | 100,015 attempts over 23 days"
SNS_IMMEDIATE = 3
SNS_PRE_BACKOFF = 2
SNS_PRE_BACKOFF_DELAY_S = 1.0
SNS_BACKOFF = 10
SNS_BACKOFF_MIN_S = 1.0
SNS_BACKOFF_MAX_S = 20.0
SNS_POST_BACKOFF = 100_000
SNS_POST_BACKOFF_DELAY_S = 20.0
SNS_TOTAL_ATTEMPTS = 100_015

# --- EventBridge targets (rule-based bus) -------------------------------------------------
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html
# "retries sending the event for 24 hours and up to 185 times with an exponential back off and jitter"
EVENTBRIDGE_MAX_ATTEMPTS = 185
EVENTBRIDGE_MAX_AGE_S = 86_400.0

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
# copy of aws.amazon.com/sns/pricing: publishes $0.50 per 1M (first 1M free), deliveries to Lambda free
SNS_PER_PUBLISH_USD = 0.50 / 1e6
SNS_FREE_PUBLISHES = 1_000_000
# https://cloudburn.io/blog/amazon-eventbridge-pricing (Mar 2026): custom events $1.00 per 1M
EVENTBRIDGE_PER_EVENT_USD = 1.00 / 1e6
