"""S3 notifications through moto into the async queue: configuration, corrections, loops."""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

import boto3
import pytest

from lambda_lab import ConfigurationError, Lab
from lambda_lab.events.s3 import sequencer_key
from lambda_lab.sources.s3 import OVERLAP_MESSAGE, conflicts


@pytest.fixture(autouse=True)
def photos(lab):
    """Every test here writes to the bucket ``photos``."""
    lab.client("s3").create_bucket(Bucket="photos")


def recorder(lab: Lab, name: str = "reader"):
    seen: list[dict] = []
    fn = lab.function(name, lambda event, context: seen.append(event["Records"][0]))
    return fn, seen


def test_writes_a_real_configuration_and_merges_with_what_is_there(lab):
    s3 = lab.client("s3")
    fn, _ = recorder(lab)
    lab.s3_trigger("photos", fn, prefix="raw/", id="raw")
    lab.s3_trigger("photos", fn, prefix="thumbs/", suffix=".png", id="thumbs")
    configs = s3.get_bucket_notification_configuration(Bucket="photos")["QueueConfigurations"]
    assert [c["Id"] for c in configs] == ["raw", "thumbs"]
    assert configs[1]["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "thumbs/"},
                                                          {"Name": "suffix", "Value": ".png"}]


@pytest.mark.parametrize("first, second", [
    ({}, {}),
    ({"prefix": "raw/"}, {"prefix": "raw/2024/"}),
    ({"suffix": ".jpg"}, {"prefix": "raw/"}),
    ({"events": ["s3:ObjectCreated:*"]}, {"events": ["s3:ObjectCreated:Put"], "suffix": ".png"}),
])
def test_overlapping_configurations_are_refused_with_aws_message(lab, first, second):
    fn, _ = recorder(lab)
    lab.s3_trigger("photos", fn, **first)
    with pytest.raises(ConfigurationError) as caught:
        lab.s3_trigger("photos", fn, **second)
    assert str(caught.value) == OVERLAP_MESSAGE
    assert "Configurations overlap. Configurations on the same bucket cannot share a common event type." in str(caught.value)


@pytest.mark.parametrize("a, b", [
    ((["s3:ObjectCreated:*"], "raw/", ""), (["s3:ObjectCreated:*"], "thumbs/", "")),
    ((["s3:ObjectCreated:*"], "", ".jpg"), (["s3:ObjectCreated:*"], "", ".png")),
    ((["s3:ObjectCreated:*"], "", ""), (["s3:ObjectRemoved:*"], "", "")),
])
def test_disjoint_configurations_are_accepted(a, b):
    assert not conflicts(*a, *b)


def test_refuses_unknown_event_types_and_missing_buckets(lab):
    fn, _ = recorder(lab)
    with pytest.raises(ConfigurationError, match="S3 event types"):
        lab.s3_trigger("photos", fn, events=["ObjectCreated:Put"])
    with pytest.raises(ConfigurationError, match="does not exist"):
        lab.s3_trigger("nope", fn)


def test_one_record_per_event_in_order_with_growing_sequencers(lab):
    s3 = lab.client("s3")
    fn, seen = recorder(lab)
    lab.s3_trigger("photos", fn, events=["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    for body in (b"1", b"22", b"333"):
        s3.put_object(Bucket="photos", Key="a.txt", Body=body)
    s3.delete_object(Bucket="photos", Key="a.txt")
    lab.run_until_idle()
    assert [r["eventName"] for r in seen] == ["ObjectCreated:Put"] * 3 + ["ObjectRemoved:Delete"]
    assert [r["s3"]["object"].get("size") for r in seen] == [1, 2, 3, None]
    keys = [sequencer_key(r["s3"]["object"]["sequencer"]) for r in seen]
    assert keys == sorted(keys)


def test_prefix_and_suffix_filters(lab):
    s3 = lab.client("s3")
    fn, seen = recorder(lab)
    lab.s3_trigger("photos", fn, prefix="uploads/", suffix=".jpg")
    for key in ("uploads/cat.jpg", "uploads/cat.png", "other/cat.jpg"):
        s3.put_object(Bucket="photos", Key=key, Body=b"x")
    lab.run_until_idle()
    assert [unquote_plus(r["s3"]["object"]["key"]) for r in seen] == ["uploads/cat.jpg"]


def test_unicode_keys_arrive_encoded_with_slashes_kept(lab):
    s3 = lab.client("s3")
    fn, seen = recorder(lab)
    lab.s3_trigger("photos", fn)
    keys = ["my photos/ça va.jpg", "a+b/c d.txt", "日本/写真 1.png", "100%/x=y&z.csv"]
    for key in keys:
        s3.put_object(Bucket="photos", Key=key, Body=b"x")
    lab.run_until_idle()
    raw = [r["s3"]["object"]["key"] for r in seen]
    assert [unquote_plus(k) for k in raw] == keys
    assert raw[0] == "my+photos/%C3%A7a+va.jpg"
    assert all("%2F" not in k for k in raw)


def test_one_event_for_a_multipart_upload(lab):
    s3 = lab.client("s3")
    fn, seen = recorder(lab)
    lab.s3_trigger("photos", fn)
    upload = s3.create_multipart_upload(Bucket="photos", Key="video.mp4")
    part = s3.upload_part(Bucket="photos", Key="video.mp4", UploadId=upload["UploadId"], PartNumber=1, Body=b"v" * 100)
    s3.complete_multipart_upload(Bucket="photos", Key="video.mp4", UploadId=upload["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    lab.run_until_idle()
    assert [r["eventName"] for r in seen] == ["ObjectCreated:CompleteMultipartUpload"]


def test_test_event_goes_to_the_queue_not_the_function(lab):
    fn, seen = recorder(lab)
    notification = lab.s3_trigger("photos", fn)
    lab.run_until_idle()
    assert seen == []
    assert [e["Event"] for e in notification.test_events] == ["s3:TestEvent"]


def test_invoked_asynchronously_after_a_short_delay(lab):
    fn, _ = recorder(lab)
    lab.s3_trigger("photos", fn, delivery_delay_s=2.0)
    lab.client("s3").put_object(Bucket="photos", Key="k", Body=b"x")
    assert len(lab.log) == 0
    lab.run(5)
    frame = lab.log.to_frame("reader")
    assert frame["source"].tolist() == ["s3"] and frame["start"].tolist() == [2.0]
    assert frame["items"].tolist() == [("k",)]


def test_writes_from_another_client_are_delivered(lab):
    fn, seen = recorder(lab)
    lab.s3_trigger("photos", fn)
    other = boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    other.put_object(Bucket="photos", Key="elsewhere.txt", Body=b"x")
    lab.run_until_idle()
    assert [r["s3"]["object"]["key"] for r in seen] == ["elsewhere.txt"]


def test_failing_handler_goes_through_retries_to_on_failure(lab):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName="failed-uploads")["QueueUrl"]

    def broken(event, context):
        raise KeyError(event["Records"][0]["s3"]["object"]["key"])

    fn = lab.function("broken", broken, on_failure=lab.arn("sqs", "failed-uploads"))
    lab.s3_trigger("photos", fn)
    lab.client("s3").put_object(Bucket="photos", Key="x y.jpg", Body=b"x")
    lab.run_until_idle()
    assert lab.log.to_frame("broken")["attempt"].tolist() == [1, 2, 3]
    record = json.loads(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"][0]["Body"])
    assert record["requestPayload"]["Records"][0]["s3"]["object"]["key"] == "x+y.jpg"
    assert record["requestContext"]["condition"] == "RetriesExhausted"


# --- recursive loops ----------------------------------------------------------------
def looping_lab(lab: Lab, **options):
    s3 = lab.client("s3")

    def copy_again(event, context):
        key = unquote_plus(event["Records"][0]["s3"]["object"]["key"])
        s3.put_object(Bucket="photos", Key=f"{key}.copy", Body=b"x")  # writes back into its own trigger

    fn = lab.function("copier", copy_again, **options)
    lab.s3_trigger("photos", fn)
    s3.put_object(Bucket="photos", Key="start", Body=b"x")
    lab.run_until_idle()
    return lab.log.to_frame("copier")


def test_recursive_loop_is_stopped_after_16_invocations(lab):
    frame = looping_lab(lab)
    assert (frame["outcome"] == "success").sum() == 16
    stopped = frame[frame["outcome"] == "dropped"]
    assert len(stopped) == 1
    assert stopped["error_type"].item() == "RecursiveInvocationDropped"
    assert "no dead-letter queue" in stopped["error_message"].item()
    assert stopped["items"].item() == ("start" + ".copy" * 16,)


def test_stopped_invocation_goes_to_the_dead_letter_queue(lab):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName="loop-dlq")["QueueUrl"]
    frame = looping_lab(lab, dead_letter_arn=lab.arn("sqs", "loop-dlq"))
    assert (frame["outcome"] == "success").sum() == 16
    [message] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]
    assert json.loads(message["Body"])["Records"][0]["s3"]["object"]["key"] == "start" + ".copy" * 16


def test_a_prefix_breaks_the_loop(lab):
    s3 = lab.client("s3")

    def thumbnail(event, context):
        key = unquote_plus(event["Records"][0]["s3"]["object"]["key"])
        s3.put_object(Bucket="photos", Key=key.replace("uploads/", "thumbs/"), Body=b"x")

    fn = lab.function("thumbnail", thumbnail)
    lab.s3_trigger("photos", fn, prefix="uploads/")
    s3.put_object(Bucket="photos", Key="uploads/cat.jpg", Body=b"x")
    lab.run_until_idle()
    assert lab.log.to_frame("thumbnail")["outcome"].tolist() == ["success"]


def test_stop_detaches_the_hook(lab):
    fn, seen = recorder(lab)
    notification = lab.s3_trigger("photos", fn)
    notification.stop()
    lab.client("s3").put_object(Bucket="photos", Key="k", Body=b"x")
    lab.run_until_idle()
    assert seen == [] and not notification.pending()


def test_versioned_bucket_events_keep_the_order_of_writes(lab):
    s3 = lab.client("s3")
    s3.put_bucket_versioning(Bucket="photos", VersioningConfiguration={"Status": "Enabled"})
    fn, seen = recorder(lab)
    lab.s3_trigger("photos", fn, events=["s3:ObjectCreated:*", "s3:ObjectRemoved:*"])
    versions = [s3.put_object(Bucket="photos", Key="doc.txt", Body=b"1")["VersionId"]]
    marker = s3.delete_object(Bucket="photos", Key="doc.txt")["VersionId"]
    versions.append(s3.put_object(Bucket="photos", Key="doc.txt", Body=b"22")["VersionId"])
    lab.run_until_idle()
    assert [r["eventName"] for r in seen] == ["ObjectCreated:Put", "ObjectRemoved:DeleteMarkerCreated", "ObjectCreated:Put"]
    assert [r["s3"]["object"]["versionId"] for r in seen] == [versions[0], marker, versions[1]]
    keys = [sequencer_key(r["s3"]["object"]["sequencer"]) for r in seen]
    assert keys == sorted(keys)


def test_many_writes_between_deliveries_each_arrive_once(lab):
    s3 = lab.client("s3")
    fn, seen = recorder(lab)
    lab.s3_trigger("photos", fn)
    keys = [f"batch/{i:03d}.txt" for i in range(60)]  # more than DRAIN_EVERY, read in several passes
    for key in keys:
        s3.put_object(Bucket="photos", Key=key, Body=b"x")
    lab.run_until_idle()
    assert [unquote_plus(r["s3"]["object"]["key"]) for r in seen] == keys


def test_delete_objects_gives_one_event_per_key(lab):
    s3 = lab.client("s3")
    fn, seen = recorder(lab)
    lab.s3_trigger("photos", fn, events=["s3:ObjectRemoved:*"])
    for key in ("a", "b c"):
        s3.put_object(Bucket="photos", Key=key, Body=b"x")
    s3.delete_objects(Bucket="photos", Delete={"Objects": [{"Key": "a"}, {"Key": "b c"}]})
    lab.run_until_idle()
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in seen] == [
        ("ObjectRemoved:Delete", "a"), ("ObjectRemoved:Delete", "b+c")]
