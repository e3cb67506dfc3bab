"""From the lab to the cloud: ``to_sam(lab, path)`` writes what a lab has wired as an AWS SAM project."""

from .alarms import alarms
from .review import review
from .sam import load_template, logical_id, to_sam
from .validate import Validation, validate

__all__ = ["Validation", "alarms", "load_template", "logical_id", "review", "to_sam", "validate"]
