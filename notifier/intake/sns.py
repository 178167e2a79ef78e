"""Amazon SNS envelopes around S3 events (an SNS topic pushing to an HTTP endpoint)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifier.errors import PayloadError


@dataclass(frozen=True)
class SubscriptionConfirmation:
    """SNS asks the endpoint to confirm a subscription by fetching ``subscribe_url``."""

    topic_arn: str
    subscribe_url: str


def looks_like_sns(document: Mapping[str, Any]) -> bool:
    return document.get("Type") in ("Notification", "SubscriptionConfirmation") and (
        "TopicArn" in document or "Message" in document
    )


def unwrap_notification(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The S3 event document an SNS ``Notification`` carries as a JSON string."""
    message = document.get("Message")
    if not isinstance(message, str):
        raise PayloadError("SNS Notification without a 'Message' string")
    try:
        inner = json.loads(message)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"SNS Message is not JSON: {exc}") from None
    if not isinstance(inner, Mapping):
        raise PayloadError("SNS Message is not a JSON object")
    return inner


def subscription_confirmation(document: Mapping[str, Any]) -> SubscriptionConfirmation:
    topic, url = document.get("TopicArn"), document.get("SubscribeURL")
    if not isinstance(topic, str) or not isinstance(url, str):
        raise PayloadError("SNS SubscriptionConfirmation without TopicArn and SubscribeURL")
    return SubscriptionConfirmation(topic_arn=topic, subscribe_url=url)


CONFIRM_TIMEOUT_SECONDS = 10.0


def confirm_subscription(confirmation: SubscriptionConfirmation) -> None:
    """Fetch the SubscribeURL, which is how SNS subscriptions are confirmed.

    Only called for topics the operator allow-listed: the URL comes from the body.
    """
    request = urllib.request.Request(confirmation.subscribe_url, method="GET")  # noqa: S310
    with urllib.request.urlopen(request, timeout=CONFIRM_TIMEOUT_SECONDS) as response:  # noqa: S310
        response.read()
