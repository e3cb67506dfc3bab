"""``validate(path)``: would CloudFormation take the SAM project that ``to_sam`` wrote? Checked offline.

Three steps, on ``path/template.yaml``:

1. cfn-lint on the template (region us-east-1; errors and warnings, informational checks left out);
2. the SAM transform (aws-sam-translator), which CloudFormation runs on deploy, with each function's
   ``CodeUri`` folder replaced by an S3 object as ``sam package`` does;
3. cfn-lint on the CloudFormation the transform produced.

It runs offline: no network, no AWS call, no read of your ``~/.aws``. The transform asks a boto3
session for the region only, so for its duration the region is set and the config files are
``os.devnull``; ``os.environ`` is given back exactly as it was, even when the transform fails.
Nothing is written inside ``path``.
"""

from __future__ import annotations

import ast
import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from .sam import load_template

REGION = "us-east-1"
AFTER_TRANSFORM = "after the SAM transform"
#: cfn-lint's id for a template that its transform refuses: SAM's refusals get it too.
TRANSFORM_RULE = "E0001"
REFUSED = "(the SAM transform refused the template)"
#: A list of allowed values longer than this is given as its length.
SHORT_LIST = 8
#: What the transform's boto3 session reads: a region, and empty files instead of yours.
OFFLINE_ENVIRONMENT: dict[str, str | None] = {
    "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_PROFILE": None, "AWS_DEFAULT_PROFILE": None}
#: Managed policies by name, for SAM's loader (which would ask IAM for the whole list).
MANAGED_POLICIES = {name: f"arn:aws:iam::aws:policy/service-role/{name}" for name in (
    "AWSLambdaBasicExecutionRole", "AWSLambdaSQSQueueExecutionRole", "AWSLambdaDynamoDBExecutionRole",
    "AWSLambdaKinesisExecutionRole")}


@dataclass
class Validation:
    """What the three checks found; each finding reads ``RULEID message (where)``."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: CloudFormation resource type -> how many the SAM transform made (empty when it refused).
    transformed_types: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing would stop a deploy (warnings do not)."""
        return not self.errors

    def summary(self) -> str:
        """One line: ``cfn-lint: 0 errors, 0 warnings; SAM transform: 23 CloudFormation resources``."""
        refused = sum(e.endswith(REFUSED) for e in self.errors)
        lint = f"cfn-lint: {_count(len(self.errors) - refused, 'error')}, {_count(len(self.warnings), 'warning')}"
        if refused:
            return f"{lint}; SAM transform: refused the template ({_count(refused, 'error')})"
        if not self.transformed_types:
            return f"{lint}; SAM transform: not run (template.yaml does not parse)"
        made = sum(self.transformed_types.values())
        return f"{lint}; SAM transform: {_count(made, 'CloudFormation resource')}"

    def __repr__(self) -> str:
        lines = [self.summary()]
        lines += [f"  error: {e}" for e in self.errors] + [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def validate(path: str | Path) -> Validation:
    """Lint ``path/template.yaml``, run the SAM transform on it and lint what it makes; see the module doc."""
    text = (Path(path) / "template.yaml").read_text()
    result = Validation()
    before = _findings(_lint(text), "template.yaml")
    _add(result, before)
    try:
        template = load_template(Path(path) / "template.yaml")
    except yaml.YAMLError:
        return result  # cfn-lint has said why the file does not parse
    cloudformation, refusals = _transform(_packaged(template))
    result.errors += refusals
    if cloudformation is not None:
        counts = Counter(r.get("Type", "?") for r in cloudformation.get("Resources", {}).values())
        result.transformed_types = dict(sorted(counts.items()))
        # A resource SAM passes through unchanged would repeat what template.yaml's lint said.
        seen = {(f.rule, f.at) for f in before}
        after = _findings(_lint(json.dumps(cloudformation)), AFTER_TRANSFORM)
        _add(result, [f for f in after if (f.rule, f.at) not in seen])
    return result


def _lint(text: str) -> list[Any]:
    from cfnlint.api import ManualArgs, lint

    return lint(text, config=ManualArgs(regions=[REGION], ignore_checks=["I"]))


class _Finding(NamedTuple):
    severity: str  # "error" or "warning"
    rule: str
    at: str  # Resources/<logical id>/...
    text: str  # RULEID message at Resources/... (where)


def _findings(matches: list[Any], where: str) -> list[_Finding]:
    found = []
    for match in matches:
        at = "/".join(str(p) for p in getattr(match, "path", None) or [])
        place = where if where != "template.yaml" else f"template.yaml, line {match.linenumber}"
        text = f"{match.rule.id} {_short(match.message)}{f' at {at}' if at else ''} ({place})"
        found.append(_Finding(match.rule.severity, match.rule.id, at, text))
    return found


def _add(result: Validation, findings: list[_Finding]) -> None:
    # Sorted: cfn-lint's order depends on its rules' order, and the transform's on hashing.
    result.errors += sorted({f.text for f in findings if f.severity == "error"})
    result.warnings += sorted({f.text for f in findings if f.severity == "warning"})


def _short(message: str) -> str:
    """``'X' is not one of [every resource of the template]`` -> ``'X' is not one of the 48 allowed values``.

    The transform's resources come in hash order, so the long list would also change from run to run.
    """
    head, sep, rest = message.partition(" is not one of [")
    if not sep or not rest.endswith("]"):
        return message
    try:
        values = ast.literal_eval("[" + rest)
    except (ValueError, SyntaxError):
        return message
    if len(values) <= SHORT_LIST:
        return message
    return f"{head} is not one of the {len(values)} allowed values"


def _packaged(template: dict[str, Any]) -> dict[str, Any]:
    """A copy with local code folders as S3 objects, as ``sam package`` leaves it for CloudFormation."""
    copy = json.loads(json.dumps(template))
    for resource in (copy.get("Resources") or {}).values():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties")
        if not isinstance(props, dict):
            continue
        folder = props.get("CodeUri")
        if isinstance(folder, str) and not folder.startswith("s3://"):
            props["CodeUri"] = f"s3://artifacts/{folder.strip('/').replace('/', '-')}.zip"
    return copy


def _transform(template: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """(CloudFormation, []) or (None, what SAM refused, one error each)."""
    from samtranslator.model.exceptions import ExceptionWithMessage
    from samtranslator.translator.transform import transform

    class Policies:
        def load(self) -> dict[str, str]:
            return dict(MANAGED_POLICIES)

    with _offline():
        try:
            return transform(template, {}, Policies()), []
        except ExceptionWithMessage as refused:
            causes = getattr(refused, "causes", None) or [refused]
            return None, sorted(f"{TRANSFORM_RULE} {c.message} {REFUSED}" for c in causes)


@contextmanager
def _offline() -> Iterator[None]:
    """Set ``OFFLINE_ENVIRONMENT`` (and SAM's cached region) for the block, then put back what was there."""
    from samtranslator.metrics.method_decorator import MetricsMethodWrapperSingleton as Metrics
    from samtranslator.translator.arn_generator import ArnGenerator

    saved = {name: os.environ.get(name) for name in OFFLINE_ENVIRONMENT}
    region, metrics = ArnGenerator.BOTO_SESSION_REGION_NAME, Metrics.get_instance()
    try:
        _set(OFFLINE_ENVIRONMENT)
        # SAM caches the first region its own boto3 session finds, for the whole process: pin ours.
        ArnGenerator.BOTO_SESSION_REGION_NAME = REGION
        yield
    finally:
        # The transform counts into a metrics object with a publisher that sends nowhere; unpublished,
        # it prints a warning when garbage-collected (under a later notebook cell).
        if Metrics.get_instance() is not metrics:
            Metrics.get_instance().publish()
            Metrics.set_instance(metrics)
        ArnGenerator.BOTO_SESSION_REGION_NAME = region
        _set(saved)


def _set(values: dict[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
