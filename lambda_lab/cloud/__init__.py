"""From the lab to the cloud: ``to_sam(lab, path)`` writes what a lab has wired as an AWS SAM project."""

from .sam import load_template, logical_id, to_sam

__all__ = ["load_template", "logical_id", "to_sam"]
