"""Object inspection: what a newly stored object holds, without trusting or running it.

Pure logic over an ObjectSource; the S3 client, the database and the web layer live
elsewhere. ``inspect_object`` is the entry point.
"""

from notifier.inspection.base import Estado, Inspection, InspectionLimits, Phase
from notifier.inspection.dispatch import inspect_object
from notifier.inspection.source import BytesSource, ByteStream, FileSource, ObjectSource

__all__ = [
    "ByteStream",
    "BytesSource",
    "Estado",
    "FileSource",
    "Inspection",
    "InspectionLimits",
    "ObjectSource",
    "Phase",
    "inspect_object",
]
