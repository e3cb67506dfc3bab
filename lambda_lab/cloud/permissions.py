"""The IAM policies that allow exactly the AWS calls each handler made in the lab.

In the lab every call is allowed; on AWS a function's role must allow each call its handler
makes. ``lab.calls`` (``lambda_lab.calls``) notes every call a handler makes through a client it
made itself, with the resource it named. :func:`policies` turns one function's calls into SAM policy templates, the narrowest that
covers each resource's actions (``SAM_TEMPLATES``: the actions each grants, as SAM defines them
in ``samtranslator/policy_templates_data/policy_templates.json``, checked by the tests), and an
inline statement for actions no template covers (``sqs:GetQueueUrl`` is in none of them). Only
the calls the lab saw are allowed: a code path a handler did not take in the lab needs its own.
"""

from __future__ import annotations

import fnmatch
from typing import Any, Callable

from ..calls import Call

#: SAM policy template -> (its parameter, the IAM actions it grants), by service, narrowest first.
SAM_TEMPLATES: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    "dynamodb": [
        ("DynamoDBReadPolicy", "TableName", ("dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query",
                                             "dynamodb:BatchGetItem", "dynamodb:DescribeTable")),
        ("DynamoDBWritePolicy", "TableName", ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem")),
        ("DynamoDBCrudPolicy", "TableName", ("dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem",
                                             "dynamodb:Scan", "dynamodb:Query", "dynamodb:UpdateItem",
                                             "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem",
                                             "dynamodb:DescribeTable", "dynamodb:ConditionCheckItem")),
    ],
    "sqs": [
        ("SQSSendMessagePolicy", "QueueName", ("sqs:SendMessage*",)),
        ("SQSPollerPolicy", "QueueName", ("sqs:ChangeMessageVisibility", "sqs:ChangeMessageVisibilityBatch",
                                          "sqs:DeleteMessage", "sqs:DeleteMessageBatch", "sqs:GetQueueAttributes",
                                          "sqs:ReceiveMessage")),
    ],
    "sns": [("SNSPublishMessagePolicy", "TopicName", ("sns:Publish",))],
    "s3": [
        ("S3ReadPolicy", "BucketName", ("s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation",
                                        "s3:GetObjectVersion", "s3:GetLifecycleConfiguration")),
        ("S3WritePolicy", "BucketName", ("s3:PutObject", "s3:PutObjectAcl", "s3:PutLifecycleConfiguration")),
        ("S3CrudPolicy", "BucketName", ("s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation",
                                        "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl",
                                        "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration",
                                        "s3:DeleteObject")),
    ],
    "events": [("EventBridgePutEventsPolicy", "EventBusName", ("events:PutEvents",))],
}

def _grants(template_actions: tuple[str, ...], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action, granted) for granted in template_actions)


def _templates_for(service: str, actions: set[str]) -> tuple[list[tuple[str, str]], set[str]]:
    """The narrowest templates covering ``actions``: [(template, parameter)] and the actions left over."""
    candidates = SAM_TEMPLATES.get(service, [])
    for name, parameter, granted in candidates:  # one template for all, the narrowest first
        if all(_grants(granted, a) for a in actions):
            return [(name, parameter)], set()
    chosen, left = [], set(actions)
    for name, parameter, granted in candidates:
        covered = {a for a in left if _grants(granted, a)}
        if covered:
            chosen.append((name, parameter))
            left -= covered
    return chosen, left


def policies(calls: list[Call], name_of: Callable[[str, str], Any],
             arn_of: Callable[[str, str], Any]) -> list[dict[str, Any]]:
    """SAM ``Policies`` entries allowing exactly ``calls``.

    ``name_of(service, name)`` and ``arn_of(service, name)`` give the template's expression for a
    resource's name and ARN (a reference when the export holds it).
    """
    by_resource: dict[tuple[str, str], set[str]] = {}
    for call in calls:
        by_resource.setdefault((call.service, call.resource), set()).add(call.action)
    out: list[dict[str, Any]] = []
    inline: list[dict[str, Any]] = []
    for (service, resource), actions in by_resource.items():
        chosen, left = _templates_for(service, actions) if resource != "*" else ([], actions)
        out += [{template: {parameter: name_of(service, resource)}} for template, parameter in chosen]
        if left:
            inline.append({"Effect": "Allow", "Action": sorted(left),
                           "Resource": "*" if resource == "*" else arn_of(service, resource)})
    if inline:
        out.append({"Version": "2012-10-17", "Statement": inline})
    return out
