"""Chapter 01's exercise checks: the starter code fails them, the solutions pass."""

from __future__ import annotations

from urllib.parse import unquote_plus

from lambda_lab.check import s3 as check
from lambda_lab.events.s3 import sequencer_key


def test_exercise_1(lab):
    s3 = lab.client("s3")

    def undecoded(event, context):
        record = event["Records"][0]
        return s3.get_object(Bucket=record["s3"]["bucket"]["name"], Key=record["s3"]["object"]["key"])["Body"].read().decode()

    def decoded(event, context):
        record = event["Records"][0]
        key = unquote_plus(record["s3"]["object"]["key"])
        return s3.get_object(Bucket=record["s3"]["bucket"]["name"], Key=key)["Body"].read().decode()

    verdict = check.decoded_keys(lab, undecoded)
    assert not verdict and "NoSuchKey" in repr(verdict)
    assert check.decoded_keys(lab, decoded)


def test_exercise_2(lab):
    ddb = lab.client("dynamodb")
    ddb.create_table(TableName="sent", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    outbox: list[str] = []

    def naive(event, context):
        outbox.append(event["Records"][0]["s3"]["object"]["key"])

    def once(event, context):
        obj = event["Records"][0]["s3"]["object"]
        try:
            ddb.put_item(TableName="sent", Item={"id": {"S": obj["key"] + obj["sequencer"]}},
                         ConditionExpression="attribute_not_exists(id)")
        except ddb.exceptions.ConditionalCheckFailedException:
            return
        outbox.append(obj["key"])

    verdict = check.idempotent(lab, naive, outbox)
    assert not verdict and "more than once" in repr(verdict)
    assert check.idempotent(lab, once, outbox)


def test_exercise_3():
    def by_arrival(records):
        return {unquote_plus(r["s3"]["object"]["key"]): r for r in records}

    def by_sequencer(records):
        best = {}
        for r in records:
            key = unquote_plus(r["s3"]["object"]["key"])
            if key not in best or sequencer_key(r["s3"]["object"]["sequencer"]) > sequencer_key(best[key]["s3"]["object"]["sequencer"]):
                best[key] = r
        return best

    assert not check.latest_per_key(lambda records: None)
    verdict = check.latest_per_key(by_arrival)
    assert not verdict and "the latest was" in repr(verdict)
    assert check.latest_per_key(by_sequencer)
