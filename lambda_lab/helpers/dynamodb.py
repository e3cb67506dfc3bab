"""Chapter helpers for DynamoDB: a table with a stream, in one call.

Each call goes through ``lab.client("dynamodb")``, so a stream mapping on the table hears the
writes at once, as Lambda's pollers (4 a second) would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..lab import Lab

#: What a stream record can hold (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_StreamSpecification.html).
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")


def create_table(lab: "Lab", name: str, key: str, view_type: str = "NEW_AND_OLD_IMAGES",
                 sort_key: str | None = None) -> str:
    """An on-demand table keyed by the string ``key`` (and ``sort_key``), with a stream; its stream ARN."""
    keys = [(key, "HASH")] + ([(sort_key, "RANGE")] if sort_key else [])
    table = lab.client("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": k, "KeyType": kind} for k, kind in keys],
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type},
    )
    return table["TableDescription"]["LatestStreamArn"]
