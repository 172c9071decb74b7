"""Loopback fake provider servers speaking the OpenAI and Anthropic wire protocols, with injectable faults."""

from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.common import RecordedRequest, closed_port_url
from tests.fakes.faults import Fault
from tests.fakes.openai_server import FakeOpenAI

__all__ = ["FakeAnthropic", "FakeOpenAI", "Fault", "RecordedRequest", "closed_port_url"]
